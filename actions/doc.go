// Package actions holds the demo site's actions, one file each; every
// file registers its action from init (see package action). The events
// they announce are the ones the demo's islands and pages listen for.
package actions

import (
	"net/http"

	"github.com/atollhq/atoll/action"
	"github.com/atollhq/atoll/demo"
)

// productField is the form field naming a product, as the cart actions
// declare it.
var productField = action.Field{Name: "product", Required: true, MaxRunes: 64, Message: "That product is not in the shop."}

// shopProduct returns the demo's services and the product the form's
// product field names; a 404 Problem for a product the shop does not sell.
func shopProduct(r *action.Request) (*demo.Services, demo.Product, error) {
	shop := action.ServicesOf[*demo.Services](r)
	product, ok := demo.Lookup(r.Value("product"))
	if !ok {
		return nil, demo.Product{}, action.Refuse(http.StatusNotFound, "That product is not in the shop.")
	}
	return shop, product, nil
}

// Events the demo's actions announce.
const (
	SessionChanged = "session-changed"
	CartUpdated    = "cart-updated"
	Refresh        = "islands-refresh"
)
