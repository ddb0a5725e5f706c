package demo

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Quote is one simulated share price.
type Quote struct {
	Symbol string
	Price  float64
	Change float64 // since the previous quote
	At     time.Time
}

// Market simulates share prices for the ticker island: a random walk per
// symbol, held in memory, moved forward when a quote is read.

// It holds one price per symbol and is safe for concurrent use.
type Market struct {
	mu     sync.Mutex
	now    func() time.Time
	rnd    *rand.Rand
	prices map[string]float64
}

// New starts every symbol at its opening price. now is the clock and seed
// fixes the walk, so tests can repeat it.
func NewMarket(now func() time.Time, seed uint64, open map[string]float64) *Market {
	m := &Market{now: now, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), prices: map[string]float64{}}
	for s, p := range open {
		m.prices[s] = p
	}
	return m
}

// Quote moves the symbol's price one step (up to ±2%) and returns it.
func (m *Market) Quote(symbol string) (Quote, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.prices[symbol]
	if !ok {
		return Quote{}, false
	}
	step := (m.rnd.Float64()*2 - 1) * 0.02
	if step == 0 {
		step = 0.001
	}
	price := math.Max(0.01, math.Round(old*(1+step)*100)/100)
	if price == old {
		price = math.Round((old+0.01)*100) / 100
	}
	m.prices[symbol] = price
	return Quote{Symbol: symbol, Price: price, Change: price - old, At: m.now()}, true
}
