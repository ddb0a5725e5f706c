package demo

import "fmt"

// Product is one thing the demo shop sells.
type Product struct {
	ID, Name, Blurb string
	// Cents is the price in euro cents.
	Cents int
}

// Price is the product's price, such as "€14.00".
func (p Product) Price() string { return Euros(p.Cents) }

// Euros formats an amount of euro cents, such as "€14.00".
func Euros(cents int) string { return fmt.Sprintf("€%d.%02d", cents/100, cents%100) }

// Products are the demo shop's products in display order, fixed in code:
// the products page is static and rendered once.
var Products = []Product{
	{ID: "reef-mug", Name: "Reef mug", Blurb: "Stoneware, holds a long build.", Cents: 1400},
	{ID: "lagoon-tee", Name: "Lagoon tee", Blurb: "Organic cotton, island blue.", Cents: 2200},
	{ID: "gopher-float", Name: "Gopher float", Blurb: "For the atoll's calmer waters.", Cents: 1800},
	{ID: "tide-stickers", Name: "Tide stickers", Blurb: "Eight vinyl stickers for your laptop.", Cents: 600},
}

// Lookup returns the product with the given id.
func Lookup(id string) (Product, bool) {
	for _, p := range Products {
		if p.ID == id {
			return p, true
		}
	}
	return Product{}, false
}
