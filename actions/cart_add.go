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
	_, err = shop.Carts.Add(r.Context(), sess.ID, product.ID, r.Int("qty"))
	if errors.Is(err, demo.ErrTooMany) {
		return "", action.Refuse(http.StatusUnprocessableEntity, "That is more than one cart can hold.")
	}
	if err != nil {
		return "", err
	}
	// What was done, not the cart's new total: the message stays on the
	// product's card after other cards add, and a total would go stale.
	return action.OK("Added " + strconv.Itoa(r.Int("qty")) + " × " + product.Name + "."), nil
}
