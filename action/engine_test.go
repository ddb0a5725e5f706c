package action_test

import (
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/atollhq/atoll/action"
	"github.com/atollhq/atoll/store"
)

type shop struct{ name string }

// serve answers POST /actions/* with an engine for set, whose services
// are a *shop, and turns every error into its text as the status it
// carries (a panic, as 500), for the test to read.
func serve(t *testing.T, set *action.Set) *fiber.App {
	t.Helper()
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "atoll.db"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e, err := action.NewEngine(action.Options{Store: st, Services: &shop{name: "reef"}, Actions: set})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	app.All("/actions/*", func(c *fiber.Ctx) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = c.Status(http.StatusInternalServerError).SendString(p.(string))
			}
		}()
		if err := e.Handle(c); err != nil {
			status := http.StatusInternalServerError
			if p, ok := err.(*action.Problem); ok {
				status = p.Status
			}
			return c.Status(status).SendString(err.Error())
		}
		return nil
	})
	return app
}

func post(t *testing.T, app *fiber.App, name string) (int, string) {
	t.Helper()
	res, err := app.Test(httptest.NewRequest(http.MethodPost, "/actions/"+name, nil))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestEngineServesOnlyItsSet(t *testing.T) {
	t.Parallel()
	set := action.NewSet()
	set.Register(action.Action{Name: "mine", Handle: func(*action.Request) (template.HTML, error) { return "mine", nil }})
	app := serve(t, set)
	if status, body := post(t, app, "mine"); status != http.StatusOK || body != "mine" {
		t.Fatalf("mine: %d %q", status, body)
	}
	action.Register(action.Action{Name: "zz-test-engine-default", Handle: nothing})
	if status, _ := post(t, app, "zz-test-engine-default"); status != http.StatusNotFound {
		t.Fatalf("an action of Default, not of the engine's set: %d, want 404", status)
	}
}

func TestServicesOf(t *testing.T) {
	t.Parallel()
	set := action.NewSet()
	set.Register(action.Action{Name: "right", Handle: func(r *action.Request) (template.HTML, error) {
		return template.HTML(action.ServicesOf[*shop](r).name), nil
	}})
	set.Register(action.Action{Name: "wrong", Handle: func(r *action.Request) (template.HTML, error) {
		action.ServicesOf[*strings.Builder](r)
		return "", nil
	}})
	app := serve(t, set)
	if status, body := post(t, app, "right"); status != http.StatusOK || body != "reef" {
		t.Fatalf("right: %d %q, want 200 reef", status, body)
	}
	status, body := post(t, app, "wrong")
	if want := `action "wrong": services are *action_test.shop, not *strings.Builder`; status != http.StatusInternalServerError || body != want {
		t.Fatalf("wrong: %d %q, want 500 %q", status, body, want)
	}
}

func TestNewEngineNeedsASet(t *testing.T) {
	t.Parallel()
	st, err := store.OpenSQLite(filepath.Join(t.TempDir(), "atoll.db"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := action.NewEngine(action.Options{Store: st}); err == nil || !strings.Contains(err.Error(), "no action set") {
		t.Fatalf("NewEngine without a set: %v", err)
	}
}
