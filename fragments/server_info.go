package fragments

import (
	"github.com/atollhq/atoll/island"

	"math/rand/v2"
	"strconv"
)

// The server-info island shows the server's time and date and a random
// token, all made fresh on every render. It reads no cookies and no store.
// It takes one prop, "n", and ignores it: /compare passes each of its ten
// a different n, as Astro's reference page does, so each fetches a URL of
// its own.
func init() {
	island.Register(island.Island{
		Name: "server-info",
		Fallback: `<dl class="facts">` +
			`<div class="fact"><dt>Server Time</dt><dd><span class="skeleton w-12"></span></dd></div>` +
			`<div class="fact"><dt>Server Date</dt><dd><span class="skeleton w-10"></span></dd></div>` +
			`<div class="fact"><dt>Random Token</dt><dd><span class="skeleton w-6"></span></dd></div>` +
			`</dl>`,
		Template: `<dl class="facts">` +
			`<div class="fact"><dt>Server Time</dt><dd data-field="time">{{.Time}}</dd></div>` +
			`<div class="fact"><dt>Server Date</dt><dd data-field="date">{{.Date}}</dd></div>` +
			`<div class="fact"><dt>Random Token</dt><dd data-field="token">{{.Token}}</dd></div>` +
			`</dl>`,
		Props:  []island.Prop{{Name: "n"}},
		Render: renderServerInfo,
	})
}

type serverInfo struct {
	Time, Date, Token string
}

func renderServerInfo(r *island.Request) (any, error) {
	now := r.Now()
	return serverInfo{
		Time:  now.UTC().Format("15:04:05 UTC"),
		Date:  now.UTC().Format("2006-01-02"),
		Token: "#" + groupThousands(100_000+rand.IntN(900_000)),
	}, nil
}

// groupThousands writes n with commas between groups of three digits.
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
