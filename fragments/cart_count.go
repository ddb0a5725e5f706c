package fragments

import (
	"github.com/atollhq/atoll/demo"
	"github.com/atollhq/atoll/island"
	"github.com/atollhq/atoll/store"

	"fmt"
)

// The cart-count island shows how many items the visitor's cart holds. The
// layout places it in the header of every page, refreshed on the
// cart-updated event the cart actions announce. It reads the session
// cookie and the shop's carts.
func init() {
	island.Register(island.Island{
		Name:     "cart-count",
		Fallback: `<span class="cart-link"><span class="cart-label">Cart</span> <span class="cart-count skeleton"></span></span>`,
		Template: `<a class="cart-link" href="{{.Base}}/cart"><span class="cart-label">Cart</span> ` +
			`<span class="cart-count" data-field="cart-count">{{.Count}}</span></a>`,
		Render:  renderCartCount,
		Cookies: []string{store.SessionCookie},
	})
}

type cartCount struct {
	Base  string
	Count int
}

func renderCartCount(r *island.Request) (any, error) {
	shop := island.ServicesOf[*demo.Services](r)
	out := cartCount{Base: r.Base()}
	id := r.Cookie(store.SessionCookie)
	if id == "" {
		return out, nil
	}
	var err error
	if out.Count, err = shop.Carts.Count(r.Context(), id); err != nil {
		return nil, fmt.Errorf("count cart: %w", err)
	}
	return out, nil
}
