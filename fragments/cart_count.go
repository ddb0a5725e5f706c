package fragments

import (
	"errors"
	"fmt"
)

// The cart-count island shows how many items the visitor's cart holds. The
// layout places it in the header of every page, refreshed on the
// cart-updated event the cart actions announce. It reads the session
// cookie and the Carts store.
func init() {
	Register(Island{
		Name:     "cart-count",
		Fallback: `<span class="cart-link"><span class="cart-label">Cart</span> <span class="cart-count skeleton"></span></span>`,
		Template: `<a class="cart-link" href="{{.Base}}/products"><span class="cart-label">Cart</span> ` +
			`<span class="cart-count" data-field="cart-count">{{.Count}}</span></a>`,
		Render:  renderCartCount,
		Cookies: []string{SessionCookie},
	})
}

type cartCount struct {
	Base  string
	Count int
}

func renderCartCount(r *Request) (any, error) {
	if r.Carts == nil {
		return nil, errors.New("no Carts store")
	}
	out := cartCount{Base: r.BasePath}
	id := r.Cookie(SessionCookie)
	if id == "" {
		return out, nil
	}
	n, err := r.Carts.CartCount(r.Context(), id)
	if err != nil {
		return nil, fmt.Errorf("count cart: %w", err)
	}
	out.Count = n
	return out, nil
}
