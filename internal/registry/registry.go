// Package registry is the named set behind island.Set and action.Set: a
// map guarded for use by several goroutines, whose zero value is ready.
package registry

import (
	"slices"
	"sync"
)

// Set holds values by name.
type Set[T any] struct {
	mu sync.RWMutex
	m  map[string]T
}

// Add stores v under name and reports true, or stores nothing and
// reports false when the name is taken.
func (s *Set[T]) Add(name string, v T) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.m[name]; dup {
		return false
	}
	if s.m == nil {
		s.m = map[string]T{}
	}
	s.m[name] = v
	return true
}

// Get returns the value stored under name.
func (s *Set[T]) Get(name string) (T, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.m[name]
	return v, ok
}

// Names returns every name, sorted.
func (s *Set[T]) Names() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.namesLocked()
}

// Values returns every value, in the order of their names.
func (s *Set[T]) Values() []T {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]T, 0, len(s.m))
	for _, n := range s.namesLocked() {
		out = append(out, s.m[n])
	}
	return out
}

func (s *Set[T]) namesLocked() []string {
	names := make([]string, 0, len(s.m))
	for n := range s.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
