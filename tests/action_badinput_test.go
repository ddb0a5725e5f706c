//go:build !race

package tests

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/atollhq/atoll"
	"github.com/atollhq/atoll/action"
	"github.com/atollhq/atoll/atolltest"
	"github.com/atollhq/atoll/demo"
	"github.com/atollhq/atoll/server"
	"github.com/atollhq/atoll/store"
)

// validValue is a value the declaration of f accepts, for the fields a
// case does not test: its Default, else Min for an Int field, else a
// product the shop sells for a field named "product", else a short plain
// word.
func validValue(f action.Field) string {
	switch {
	case f.Default != "":
		return f.Default
	case f.Int:
		return strconv.Itoa(f.Min)
	case f.Name == "product":
		return "reef-mug"
	}
	return "Ada"
}

// badValues are the values that break f's declaration, each named.
func badValues(f action.Field) map[string]string {
	max := f.MaxRunes
	if max == 0 {
		max = action.DefaultMaxRunes
	}
	bad := map[string]string{
		"a NUL":                            "a\x00b",
		"a bell":                           "a\x07b",
		"an escape":                        "a\x1b[2Jb",
		"a DEL":                            "a\x7fb",
		"a C1 control":                     "a\u0080b",
		"an inner newline":                 "a\nb",
		"one rune over MaxRunes":           strings.Repeat("7", max+1),
		"one two-byte rune over MaxRunes":  strings.Repeat("é", max+1),
		"invalid UTF-8":                    "a\xffb",
		"a lone continuation byte":         "\x80",
		"an overlong encoding of a slash":  "\xc0\xaf",
		"a UTF-16 surrogate in UTF-8 form": "\xed\xa0\x80",
	}
	if f.Int {
		bad["a word"] = "many"
		bad["a fraction"] = strconv.Itoa(f.Min) + ".5"
		bad["an exponent"] = "1e1"
		bad["hexadecimal"] = "0x1"
		bad["a non-ASCII digit"] = "٣"
		bad["one under Min"] = strconv.Itoa(f.Min - 1)
		bad["one over Max"] = strconv.Itoa(f.Max + 1)
		bad["a number past int64"] = "99999999999999999999"
	}
	if f.Required && f.Default == "" {
		bad["an empty value"] = ""
		bad["only spaces"] = "  \t "
	}
	return bad
}

// validForm fills every declared field of a with a valid value.
func validForm(a action.Action) url.Values {
	form := url.Values{}
	for _, f := range a.Fields {
		form.Set(f.Name, validValue(f))
	}
	return form
}

// shopState is everything an action could change: the store's figures
// and the cart of the session the test holds.
type shopState struct {
	siteStats
	cart string
}

func snapshot(t *testing.T, site *atolltest.Site, sessionID string) shopState {
	t.Helper()
	shop, ok := site.Services.(*demo.Services)
	if !ok {
		t.Fatalf("the site's services are %T, not the demo's", site.Services)
	}
	lines, err := shop.Carts.Lines(context.Background(), sessionID)
	if err != nil {
		t.Fatal(err)
	}
	var cart []string
	for _, l := range lines {
		cart = append(cart, l.Product.ID+"×"+strconv.Itoa(l.Qty))
	}
	return shopState{siteStats: stats(t, site), cart: strings.Join(cart, " ")}
}

// expectRefused checks a refusal: status, an alert fragment (holding
// message when it is not ""), no-store, no announcement, no session
// cookie set and nothing in the store changed.
func expectRefused(t *testing.T, site *atolltest.Site, sessionID string, before shopState, r *atolltest.Response, status int, message string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %q", r.Status, status, r.Body)
	}
	body := strings.TrimSpace(r.Body)
	if !strings.HasPrefix(body, `<span class="action-error" role="alert">`) || !strings.HasSuffix(body, `</span>`) || strings.Count(body, "<") != 2 {
		t.Errorf("want one alert fragment, got %q", r.Body)
	}
	if message != "" && !strings.Contains(body, ">"+html.EscapeString(message)+"<") {
		t.Errorf("the alert says %q, want the field's message %q", body, message)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	if ev := r.Header.Get("HX-Trigger"); ev != "" {
		t.Errorf("a refused action announced %q", ev)
	}
	if c := sessionCookie(r); c != nil && !cleared(c) {
		t.Errorf("a refused action set a session cookie: %+v", c)
	}
	if after := snapshot(t, site, sessionID); after != before {
		t.Errorf("the store changed: %+v -> %+v", before, after)
	}
}

// TestEveryRegisteredActionRejectsBadInput sends every registered action
// each kind of bad input its declaration rules out, as a guest and as a
// signed-in visitor with something in the cart, and checks that it is
// refused before anything is written. Every other field of a case holds
// a valid value (see validValue), and a last request with only valid
// values must succeed, so each refusal is the bad value's doing.
func TestEveryRegisteredActionRejectsBadInput(t *testing.T) {
	t.Parallel()
	site := atolltest.Start(t, atoll.Demo())
	names := action.Names()
	for _, want := range []string{"cart/add", "cart/remove", "refresh", "sign-in", "sign-out"} {
		if !slices.Contains(names, want) {
			t.Fatalf("action %q is not registered; the registered ones are %q", want, names)
		}
	}

	in := site.Post(t, "/actions/sign-in", url.Values{"name": {"Ada"}})
	victim := sessionCookie(in)
	if victim == nil {
		t.Fatalf("sign-in set no cookie: %d %q", in.Status, in.Body)
	}
	if r := site.Post(t, "/actions/cart/add", url.Values{"product": {"reef-mug"}, "qty": {"2"}}, "Cookie", store.SessionCookie+"="+victim.Value); r.Status != 200 {
		t.Fatalf("add: %d %q", r.Status, r.Body)
	}
	visitors := []struct {
		name   string
		header []string
	}{
		{"a guest", nil},
		{"a signed-in visitor with a cart", []string{"Cookie", store.SessionCookie + "=" + victim.Value}},
	}

	for _, name := range names {
		a, err := action.Lookup(name)
		if err != nil {
			t.Fatalf("Names lists %q, Lookup does not find it: %v", name, err)
		}
		path := "/actions/" + name
		t.Run(name, func(t *testing.T) {
			for _, v := range visitors {
				t.Run(v.name, func(t *testing.T) {
					for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
						before := snapshot(t, site, victim.Value)
						r := site.Do(t, method, path+"?"+validForm(a).Encode(), nil, append([]string{"Sec-Fetch-Site", "same-origin"}, v.header...)...)
						expectRefused(t, site, victim.Value, before, r, http.StatusMethodNotAllowed, "")
						if allow := r.Header.Get("Allow"); allow != "POST" {
							t.Errorf("%s: Allow %q, want POST", method, allow)
						}
					}

					before := snapshot(t, site, victim.Value)
					r := site.Post(t, path, validForm(a), append(slices.Clone(v.header), "Sec-Fetch-Site", "cross-site")...)
					expectRefused(t, site, victim.Value, before, r, http.StatusForbidden, "")

					big := validForm(a)
					big.Set("zz-padding", strings.Repeat("a", server.MaxBody))
					before = snapshot(t, site, victim.Value)
					r = site.Post(t, path, big, v.header...)
					expectRefused(t, site, victim.Value, before, r, http.StatusRequestEntityTooLarge, "")

					for _, f := range a.Fields {
						for what, value := range badValues(f) {
							t.Run(f.Name+" holds "+what, func(t *testing.T) {
								form := validForm(a)
								form.Set(f.Name, value)
								before := snapshot(t, site, victim.Value)
								r := site.Post(t, path, form, v.header...)
								expectRefused(t, site, victim.Value, before, r, http.StatusBadRequest, f.Message)
							})
						}
						if f.Required && f.Default == "" {
							t.Run(f.Name+" is missing", func(t *testing.T) {
								form := validForm(a)
								form.Del(f.Name)
								before := snapshot(t, site, victim.Value)
								r := site.Post(t, path, form, v.header...)
								expectRefused(t, site, victim.Value, before, r, http.StatusBadRequest, f.Message)
							})
						}
					}
				})
			}

			// The same form with only valid values goes through, on a
			// session of its own: the refusals above were the bad
			// values' doing, not the filler's.
			own, err := site.Store.NewSession(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			r := site.Post(t, path, validForm(a), "Cookie", store.SessionCookie+"="+own.ID)
			if r.Status != http.StatusOK && r.Status != http.StatusNoContent {
				t.Fatalf("the valid form %q: %d %q", validForm(a).Encode(), r.Status, r.Body)
			}
		})
	}

	for _, path := range []string{"/actions/teleport", "/actions/", "/actions/cart", "/actions/cart/add/more", "/actions/CART/ADD", "/actions/sign-in%2Fx"} {
		t.Run("unknown "+path, func(t *testing.T) {
			before := snapshot(t, site, victim.Value)
			r := site.Post(t, path, url.Values{"product": {"reef-mug"}, "name": {"Mallory"}}, "Cookie", store.SessionCookie+"="+victim.Value)
			expectRefused(t, site, victim.Value, before, r, http.StatusNotFound, "There is no such action.")
		})
	}

	if r := site.Get(t, "/"); r.Status != http.StatusOK {
		t.Fatalf("after the bad input the home page answers %d", r.Status)
	}
	if st := snapshot(t, site, victim.Value); st.cart != "reef-mug×2" {
		t.Fatalf("the signed-in visitor's cart is %q at the end", st.cart)
	}
}
