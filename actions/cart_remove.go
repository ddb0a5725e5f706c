package actions

import (
	"html/template"
	"strconv"

	"github.com/atollhq/atoll/action"
)

// cart/remove takes a product out of the visitor's cart, whatever its
// quantity.
func init() {
	action.Register(action.Action{
		Name:      "cart/remove",
		Fields:    []action.Field{productField},
		Announces: []string{CartUpdated},
		Handle:    removeFromCart,
	})
}

func removeFromCart(r *action.Request) (template.HTML, error) {
	shop, product, err := shopProduct(r)
	if err != nil {
		return "", err
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
