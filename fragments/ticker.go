package fragments

import (
	"github.com/atollhq/atoll/demo"
	"github.com/atollhq/atoll/island"

	"fmt"
	"strings"
)

// The ticker island shows simulated share prices, each with an up or down
// mark and the time of its quote; its template is ticker.html. Pages
// place it with (poll "3s") so it refreshes itself. It reads the demo's
// market and the optional "symbols" prop (comma-separated; default
// ATL,GOPH,HTMX); no cookies.
//
// The list is no live region: a poll replaces it silently, so a screen
// reader reads the prices when the visitor goes to them, with the time of
// each quote, and is not interrupted every three seconds. The arrow is
// hidden from screen readers; the signed change says the same.
func init() {
	island.Register(island.Island{
		Name: "ticker",
		Fallback: `<ul class="ticker">` +
			`<li><span class="skeleton w-6"></span> <span class="skeleton w-8"></span></li>` +
			`<li><span class="skeleton w-6"></span> <span class="skeleton w-8"></span></li>` +
			`<li><span class="skeleton w-6"></span> <span class="skeleton w-8"></span></li></ul>`,
		TemplateFile: "ticker.html",
		Files:        templates,
		Props:        []island.Prop{{Name: "symbols"}},
		Render:       renderTicker,
	})
}

type tickerRow struct {
	Symbol, Price, Change, Dir, Mark, Time, ISO string
}

func renderTicker(r *island.Request) (any, error) {
	shop := island.ServicesOf[*demo.Services](r)
	symbols := strings.FieldsFunc(r.Prop("symbols"), func(c rune) bool { return c == ',' })
	if len(symbols) == 0 {
		symbols = []string{"ATL", "GOPH", "HTMX"}
	}
	rows := make([]tickerRow, 0, len(symbols))
	for _, s := range symbols {
		q, ok := shop.Market.Quote(s)
		if !ok {
			return nil, fmt.Errorf("unknown symbol %q", s)
		}
		row := tickerRow{Symbol: s, Price: fmt.Sprintf("%.2f", q.Price), Change: fmt.Sprintf("%+.2f", q.Change),
			Dir: "up", Mark: "▲", Time: q.At.UTC().Format("15:04:05 UTC"), ISO: q.At.Format("2006-01-02T15:04:05Z07:00")}
		if q.Change < 0 {
			row.Dir, row.Mark = "down", "▼"
		}
		rows = append(rows, row)
	}
	return rows, nil
}
