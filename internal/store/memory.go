// Package store holds the demo's state. Memory is the in-process store
// used until a persistent one replaces it.
package store

import (
	"context"
	"sync"

	"atoll/fragments"
)

// Memory keeps sessions in a map. It is safe for concurrent use.
type Memory struct {
	mu       sync.RWMutex
	sessions map[string]string // session id -> user name
}

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{sessions: map[string]string{}}
}

// AddSession records that sessionID belongs to the user called name.
func (m *Memory) AddSession(sessionID, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[sessionID] = name
}

// UserName implements fragments.Sessions.
func (m *Memory) UserName(_ context.Context, sessionID string) (string, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	name, ok := m.sessions[sessionID]
	return name, ok, nil
}

var _ fragments.Sessions = (*Memory)(nil)
