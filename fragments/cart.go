package fragments

import (
	"github.com/atollhq/atoll/demo"
	"github.com/atollhq/atoll/island"
	"github.com/atollhq/atoll/store"
)

// The cart island lists what the visitor's cart holds, with quantity,
// price and line total, the cart's total, and a Remove button per line
// that posts the cart/remove action; its template is cart.html. The cart
// page places it refreshed on the cart-updated event, which the action
// announces, so the list and the header's count change together. It
// reads the session cookie and the shop's carts; it takes no props.
func init() {
	island.Register(island.Island{
		Name: "cart",
		// The skeleton is one line, the height of the empty state most
		// first views show.
		Fallback:     `<div class="cart"><p class="cart-empty"><span class="skeleton w-14"></span> <span class="skeleton w-12"></span></p></div>`,
		TemplateFile: "cart.html",
		Files:        templates,
		Render:       renderCart,
		Cookies:      []string{store.SessionCookie},
	})
}

type cartLine struct {
	ID, Name, Price, Total string
	Qty                    int
}

type cart struct {
	Base  string
	Lines []cartLine
	Count int
	Total string
}

func renderCart(r *island.Request) (any, error) {
	shop := island.ServicesOf[*demo.Services](r)
	out := cart{Base: r.Base()}
	id := r.Cookie(store.SessionCookie)
	if id == "" {
		return out, nil
	}
	lines, err := shop.Carts.Lines(r.Context(), id)
	if err != nil {
		return nil, err
	}
	cents := 0
	for _, l := range lines {
		out.Lines = append(out.Lines, cartLine{ID: l.Product.ID, Name: l.Product.Name, Price: l.Product.Price(),
			Total: demo.Euros(l.Cents()), Qty: l.Qty})
		out.Count += l.Qty
		cents += l.Cents()
	}
	out.Total = demo.Euros(cents)
	return out, nil
}
