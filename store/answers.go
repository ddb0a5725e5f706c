package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Answer is an action's response as the store keeps it for a repeat of
// the request's Idempotency-Key.
type Answer struct {
	Status  int
	Trigger string // HX-Trigger
	Body    []byte
	// Cookies are the Set-Cookie header values, such as the session
	// cookie a first add to a cart sets.
	Cookies []string
}

// AnswerTTL is how long an answer is kept for a repeat of its key;
// PurgeExpired removes older ones.
const AnswerTTL = time.Hour

// Errors of ClaimKey.
var (
	// ErrKeyReused means the key came before with a different request.
	ErrKeyReused = errors.New("store: idempotency key reused for a different request")
	// ErrKeyBusy means the key is claimed by a request not finished yet.
	ErrKeyBusy = errors.New("store: idempotency key in use by a request still running")
)

// answersTable is the migration step that makes the table of answers,
// in each backend's types. An answer is not tied to a session row: its
// scope is the cookie the request came with, which a sign-in may have
// replaced since.
func answersTable(integer, blob string) string {
	return `CREATE TABLE action_answers (
		scope       TEXT NOT NULL,
		idem_key    TEXT NOT NULL,
		fingerprint TEXT NOT NULL,
		status      INTEGER NOT NULL,
		hx_trigger  TEXT NOT NULL,
		body        ` + blob + ` NOT NULL,
		cookies     TEXT NOT NULL,
		expires_at  ` + integer + ` NOT NULL,
		PRIMARY KEY (scope, idem_key)
	);
	CREATE INDEX action_answers_expires ON action_answers(expires_at);`
}

// ClaimKey implements Store.
func (s *sqlStore) ClaimKey(ctx context.Context, scope, key, fingerprint string) (Answer, bool, error) {
	q := From(ctx, s.db)
	now := s.now()
	// An expired answer not purged yet is claimed over. On PostgreSQL,
	// a row another transaction inserted and has not committed makes
	// this statement wait for that transaction's end.
	res, err := q.ExecContext(ctx, `INSERT INTO action_answers (scope, idem_key, fingerprint, status, hx_trigger, body, cookies, expires_at)
		VALUES ($1, $2, $3, 0, '', $4, '', $5)
		ON CONFLICT (scope, idem_key) DO UPDATE SET fingerprint = excluded.fingerprint, status = 0, hx_trigger = '',
			body = excluded.body, cookies = '', expires_at = excluded.expires_at
		WHERE action_answers.expires_at <= $6`, scope, key, fingerprint, []byte{}, now.Add(AnswerTTL).Unix(), now.Unix())
	if err != nil {
		return Answer{}, false, fmt.Errorf("store: claim key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return Answer{}, false, nil
	}
	var a Answer
	var fp, cookies string
	err = q.QueryRowContext(ctx, `SELECT fingerprint, status, hx_trigger, body, cookies FROM action_answers
		WHERE scope = $1 AND idem_key = $2`, scope, key).Scan(&fp, &a.Status, &a.Trigger, &a.Body, &cookies)
	switch {
	case errors.Is(err, sql.ErrNoRows): // purged between the two statements
		return Answer{}, false, ErrKeyBusy
	case err != nil:
		return Answer{}, false, fmt.Errorf("store: claim key: %w", err)
	case fp != fingerprint:
		return Answer{}, false, ErrKeyReused
	case a.Status == 0:
		return Answer{}, false, ErrKeyBusy
	}
	if cookies != "" {
		a.Cookies = strings.Split(cookies, "\n")
	}
	return a, true, nil
}

// RecordAnswer implements Store.
func (s *sqlStore) RecordAnswer(ctx context.Context, scope, key string, a Answer) error {
	if a.Status == 0 {
		return errors.New("store: record answer: no status")
	}
	for _, c := range a.Cookies {
		if strings.ContainsAny(c, "\r\n") {
			return errors.New("store: record answer: a cookie holds a line break")
		}
	}
	body := a.Body
	if body == nil {
		body = []byte{}
	}
	res, err := From(ctx, s.db).ExecContext(ctx, `UPDATE action_answers SET status = $1, hx_trigger = $2, body = $3, cookies = $4
		WHERE scope = $5 AND idem_key = $6`, a.Status, a.Trigger, body, strings.Join(a.Cookies, "\n"), scope, key)
	if err != nil {
		return fmt.Errorf("store: record answer: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errors.New("store: record answer: the key was not claimed")
	}
	return nil
}
