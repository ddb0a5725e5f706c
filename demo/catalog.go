package demo

// Product is one thing the demo shop sells.
type Product struct {
	ID, Name, Blurb, Price string
}

// Products are the demo shop's products in display order, fixed in code:
// the products page is static and rendered once.
var Products = []Product{
	{ID: "reef-mug", Name: "Reef mug", Blurb: "Stoneware, holds a long build.", Price: "€14"},
	{ID: "lagoon-tee", Name: "Lagoon tee", Blurb: "Organic cotton, island blue.", Price: "€22"},
	{ID: "gopher-float", Name: "Gopher float", Blurb: "For the atoll's calmer waters.", Price: "€18"},
	{ID: "tide-stickers", Name: "Tide stickers", Blurb: "Eight vinyl stickers for your laptop.", Price: "€6"},
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
