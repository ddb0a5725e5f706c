// Package demo is the demo site's own code: the shop's catalog and carts,
// the simulated market the ticker reads, and the figures the dashboard
// shows. Its islands (fragments/) and actions (actions/) reach it through
// the same public API any site has: Open makes the Services once the
// store is open, and each island or action asks for them with From.
package demo

import (
	"context"
	"fmt"
	"html/template"
	"time"

	"github.com/atollhq/atoll/store"
)

// Services are what the demo's islands and actions use.
type Services struct {
	Store  store.Store
	Carts  *Carts
	Market *Market
	now    func() time.Time
}

// Open makes the demo's services on an open store (server.Site.Open).
func Open(st store.Store, now func() time.Time) (any, error) {
	return &Services{
		Store:  st,
		Carts:  NewCarts(st.DB(), now),
		Market: NewMarket(now, uint64(now().UnixNano()), map[string]float64{"ATL": 42.00, "GOPH": 128.50, "HTMX": 4.01}),
		now:    now,
	}, nil
}

// Stats are the live figures the dashboard shows.
type Stats struct {
	Users, Sessions, CartItems int
	// At is the time of the figures, UTC, hours to seconds.
	At string
}

// Funcs are the demo's page functions (server.Site.Funcs):
//
//	{{ range products }}…{{ end }}       the catalog
//	{{ with stats }}{{ .Users }}{{ end }} live figures, for pages rendered per request
func Funcs(services any) template.FuncMap {
	return template.FuncMap{
		"products": func() []Product { return Products },
		"stats": func() (Stats, error) {
			s, ok := services.(*Services)
			if !ok {
				return Stats{}, fmt.Errorf("demo: the site's services are %T, not the demo's", services)
			}
			ctx := context.Background()
			st, err := s.Store.Stats(ctx)
			if err != nil {
				return Stats{}, err
			}
			items, err := s.Carts.Items(ctx)
			if err != nil {
				return Stats{}, err
			}
			return Stats{Users: st.Users, Sessions: st.Sessions, CartItems: items, At: s.now().UTC().Format("15:04:05")}, nil
		},
	}
}
