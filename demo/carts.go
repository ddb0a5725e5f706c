package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/atollhq/atoll/store"
)

// Migrations are the shop's tables. A cart line belongs to a session and
// follows it: its id changes at sign-in (ON UPDATE CASCADE), and sign-out
// or expiry removes it (ON DELETE CASCADE). The first step also carries
// over the lines of a database made before the shop owned its table.
var Migrations = []store.Migration{
	{Owner: "shop", SQL: `CREATE TABLE IF NOT EXISTS cart_items (
		session_id TEXT NOT NULL,
		product_id TEXT NOT NULL,
		qty        INTEGER NOT NULL,
		PRIMARY KEY (session_id, product_id)
	);
	CREATE TABLE cart_lines (
		session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE ON UPDATE CASCADE,
		product_id TEXT NOT NULL,
		qty        INTEGER NOT NULL CHECK (qty > 0 AND qty <= 99),
		PRIMARY KEY (session_id, product_id)
	);
	INSERT INTO cart_lines (session_id, product_id, qty)
		SELECT c.session_id, c.product_id, CASE WHEN c.qty > 99 THEN 99 ELSE c.qty END FROM cart_items c JOIN sessions s ON s.id = c.session_id;
	DROP TABLE cart_items;`},
}

// MaxQty is the most of one product a cart may hold.
const MaxQty = 99

// ErrTooMany means an add would take a cart line past MaxQty.
var ErrTooMany = errors.New("shop: too many of one product")

// Carts keeps each session's cart in the store's database. Inside an
// action every statement runs in the action's transaction (store.From):
// an add's INSERT and the count it answers with commit or roll back
// together.
type Carts struct {
	db  *sql.DB
	now func() time.Time
}

// NewCarts uses the store's database; Migrations must have been applied.
func NewCarts(db *sql.DB, now func() time.Time) *Carts { return &Carts{db: db, now: now} }

// Add adds qty of a product to the session's cart and returns how many
// items the cart then holds, or ErrTooMany.
func (c *Carts) Add(ctx context.Context, sessionID, productID string, qty int) (int, error) {
	if qty > MaxQty { // the table's CHECK would refuse it first, as a database error
		return 0, ErrTooMany
	}
	res, err := store.From(ctx, c.db).ExecContext(ctx, `INSERT INTO cart_lines (session_id, product_id, qty) VALUES ($1, $2, $3)
		ON CONFLICT (session_id, product_id) DO UPDATE SET qty = cart_lines.qty + excluded.qty
		WHERE cart_lines.qty + excluded.qty <= $4`, sessionID, productID, qty, MaxQty)
	if err != nil {
		return 0, fmt.Errorf("shop: add to cart: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, ErrTooMany
	}
	return c.Count(ctx, sessionID)
}

// Remove takes a product out of the session's cart, whatever its
// quantity, and returns how many items the cart then holds. Removing what
// is not there is not an error.
func (c *Carts) Remove(ctx context.Context, sessionID, productID string) (int, error) {
	if _, err := store.From(ctx, c.db).ExecContext(ctx, `DELETE FROM cart_lines WHERE session_id = $1 AND product_id = $2`, sessionID, productID); err != nil {
		return 0, fmt.Errorf("shop: remove from cart: %w", err)
	}
	return c.Count(ctx, sessionID)
}

// Count returns how many items the session's cart holds; 0 for a session
// that has expired.
func (c *Carts) Count(ctx context.Context, sessionID string) (int, error) {
	var n int
	err := store.From(ctx, c.db).QueryRowContext(ctx, `SELECT COALESCE(SUM(c.qty), 0) FROM cart_lines c JOIN sessions s ON s.id = c.session_id
		WHERE c.session_id = $1 AND s.expires_at > $2`, sessionID, c.now().Unix()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("shop: cart count: %w", err)
	}
	return n, nil
}

// Line is one product in a cart.
type Line struct {
	Product Product
	Qty     int
}

// Cents is the line's total in euro cents.
func (l Line) Cents() int { return l.Product.Cents * l.Qty }

// Lines returns the session's cart in catalog order.
func (c *Carts) Lines(ctx context.Context, sessionID string) ([]Line, error) {
	rows, err := store.From(ctx, c.db).QueryContext(ctx, `SELECT c.product_id, c.qty FROM cart_lines c JOIN sessions s ON s.id = c.session_id
		WHERE c.session_id = $1 AND s.expires_at > $2`, sessionID, c.now().Unix())
	if err != nil {
		return nil, fmt.Errorf("shop: cart: %w", err)
	}
	defer rows.Close()
	qty := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("shop: cart: %w", err)
		}
		qty[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("shop: cart: %w", err)
	}
	var lines []Line
	for _, p := range Products {
		if n := qty[p.ID]; n > 0 {
			lines = append(lines, Line{Product: p, Qty: n})
		}
	}
	return lines, nil
}

// Items counts the items in every live cart, for the dashboard.
func (c *Carts) Items(ctx context.Context) (int, error) {
	var n int
	err := store.From(ctx, c.db).QueryRowContext(ctx, `SELECT COALESCE(SUM(c.qty), 0) FROM cart_lines c JOIN sessions s ON s.id = c.session_id
		WHERE s.expires_at > $1`, c.now().Unix()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("shop: cart items: %w", err)
	}
	return n, nil
}
