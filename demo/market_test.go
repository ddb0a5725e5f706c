package demo

import (
	"testing"
	"time"
)

func TestQuotesWalkAndStayPositive(t *testing.T) {
	at := time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC)
	m := NewMarket(func() time.Time { return at }, 7, map[string]float64{"ATL": 0.02})
	prev := 0.02
	for i := range 500 {
		q, ok := m.Quote("ATL")
		if !ok || q.Price < 0.01 || q.Price == prev || !q.At.Equal(at) {
			t.Fatalf("quote %d: %+v after %.2f", i, q, prev)
		}
		if d := q.Price - prev; (d > 0) != (q.Change > 0) {
			t.Fatalf("quote %d: change %+.2f does not match the move %.2f -> %.2f", i, q.Change, prev, q.Price)
		}
		prev = q.Price
	}
	if _, ok := m.Quote("NOPE"); ok {
		t.Fatal("an unknown symbol has a quote")
	}
	again := NewMarket(func() time.Time { return at }, 7, map[string]float64{"ATL": 0.02})
	first, _ := again.Quote("ATL")
	m2 := NewMarket(func() time.Time { return at }, 7, map[string]float64{"ATL": 0.02})
	if second, _ := m2.Quote("ATL"); second.Price != first.Price {
		t.Fatal("the same seed walked differently")
	}
}
