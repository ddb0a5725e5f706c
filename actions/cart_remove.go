package actions

import (
	"html/template"
	"net/http"
	"strconv"

	"github.com/atollhq/atoll/action"
	"github.com/atollhq/atoll/demo"
)

// cart/remove takes a product out of the visitor's cart, whatever its
// quantity.
func init() {
	action.Register(action.Action{
		Name:      "cart/remove",
		Fields:    []action.Field{{Name: "product", Required: true, MaxRunes: 64, Message: "That product is not in the shop."}},
		Announces: []string{CartUpdated},
		Handle:    removeFromCart,
	})
}

func removeFromCart(r *action.Request) (template.HTML, error) {
	shop, err := demo.From(r.Services())
	if err != nil {
		return "", err
	}
	product, ok := demo.Lookup(r.Value("product"))
	if !ok {
		return "", action.Refuse(http.StatusNotFound, "That product is not in the shop.")
	}
	sess, err := r.RequireSession()
	if err != nil {
		return "", err
	}
	count, err := shop.Carts.Remove(r.Context(), sess.ID, product.ID)
	if err != nil {
		return "", err
	}
	return action.OK("Removed " + product.Name + ". " + strconv.Itoa(count) + " in your cart."), nil
}
