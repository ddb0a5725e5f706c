package actions

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"

	"github.com/atollhq/atoll/action"
	"github.com/atollhq/atoll/demo"
)

// cart/add adds the form's product and quantity to the visitor's cart,
// making a guest session on the first add.
func init() {
	action.Register(action.Action{
		Name: "cart/add",
		Fields: []action.Field{
			productField,
			{Name: "qty", Int: true, Min: 1, Max: 10, Default: "1", Message: "Choose a quantity from 1 to 10."},
		},
		Announces: []string{CartUpdated},
		Handle:    addToCart,
	})
}

func addToCart(r *action.Request) (template.HTML, error) {
	shop, product, err := shopProduct(r)
	if err != nil {
		return "", err
	}
	sess, err := r.EnsureSession()
	if err != nil {
		return "", err
	}
	count, err := shop.Carts.Add(r.Context(), sess.ID, product.ID, r.Int("qty"))
	if errors.Is(err, demo.ErrTooMany) {
		return "", action.Refuse(http.StatusUnprocessableEntity, "That is more than one cart can hold.")
	}
	if err != nil {
		return "", err
	}
	return action.OK("Added. " + strconv.Itoa(count) + " in your cart."), nil
}
