package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"
)

func mustKeys(t testing.TB, raw ...[]byte) *Keys {
	t.Helper()
	k, err := New(raw...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func key(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestSealAndOpen(t *testing.T) {
	k := mustKeys(t, key(1))
	rotated := mustKeys(t, key(2), key(1)) // new key seals, old still opens
	foreign := mustKeys(t, key(3))
	props := []byte(`{"sku":"A-100"}`)
	sealed := k.Seal("island:stock", props)

	cases := []struct {
		name    string
		keys    *Keys
		purpose string
		token   string
		want    []byte
	}{
		{"a round trip opens", k, "island:stock", sealed, props},
		{"an old key still opens after rotation", rotated, "island:stock", sealed, props},
		{"empty props round trip", k, "island:stock", k.Seal("island:stock", nil), []byte{}},
		{"another island cannot open it", k, "island:other", sealed, nil},
		{"a foreign key cannot open it", foreign, "island:stock", sealed, nil},
		{"a truncated value does not open", k, "island:stock", sealed[:len(sealed)-4], nil},
		{"garbage does not open", k, "island:stock", "not-a-sealed-value", nil},
		{"an empty value does not open", k, "island:stock", "", nil},
		{"a value with padding does not open", k, "island:stock", sealed + "==", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.keys.Open(tc.purpose, tc.token)
			if tc.want == nil {
				if !errors.Is(err, ErrInvalid) || got != nil {
					t.Fatalf("Open = %q, %v; want ErrInvalid", got, err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("Open = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	// The nonce is synthetic: the same props seal to the same text (one
	// build's replicas serve identical pages), other props or another
	// purpose to other text under another nonce.
	if again := k.Seal("island:stock", props); again != sealed {
		t.Fatal("two seals of the same props differ: replicas would serve different pages")
	}
	nonceOf := func(s string) string { b, _ := base64.RawURLEncoding.DecodeString(s); return string(b[1:13]) }
	if other := k.Seal("island:stock", append([]byte(nil), append(props, ' ')...)); nonceOf(other) == nonceOf(sealed) {
		t.Fatal("two different props share a nonce")
	}
	if other := k.Seal("island:price", props); nonceOf(other) == nonceOf(sealed) {
		t.Fatal("one value sealed for two purposes shares a nonce")
	}
	if opened, err := rotated.Open("island:stock", rotated.Seal("island:stock", props)); err != nil || !bytes.Equal(opened, props) {
		t.Fatalf("the rotated set does not open its own seal: %v", err)
	}
	if _, err := k.Open("island:stock", rotated.Seal("island:stock", props)); err == nil {
		t.Fatal("a value sealed with the new key opened with only the old one")
	}
}

func TestEveryByteFlipIsRejected(t *testing.T) {
	k := mustKeys(t, key(7))
	raw, _ := base64.RawURLEncoding.DecodeString(k.Seal("island:x", []byte(`{"a":"b"}`)))
	for i := range raw {
		for _, bit := range []byte{0x01, 0x80} {
			c := bytes.Clone(raw)
			c[i] ^= bit
			if _, err := k.Open("island:x", base64.RawURLEncoding.EncodeToString(c)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("flipping bit %#x of byte %d still opened", bit, i)
			}
		}
	}
}

func TestParseKeys(t *testing.T) {
	good := GenerateKey()
	cases := []struct {
		name, list string
		n          int
	}{
		{"one key", good, 1},
		{"two keys with spaces", good + ", " + GenerateKey(), 2},
		{"an empty list", "", 0},
		{"not base64", "!!!", 0},
		{"too short", base64.StdEncoding.EncodeToString([]byte("short")), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := ParseKeys(tc.list)
			if (err == nil) != (tc.n > 0) || len(keys) != tc.n {
				t.Fatalf("ParseKeys = %d keys, %v; want %d", len(keys), err, tc.n)
			}
		})
	}
}

// FuzzOpen feeds arbitrary text to Open: it must never panic, and nothing
// but a value this key sealed for this purpose may open.
func FuzzOpen(f *testing.F) {
	k := mustKeys(f, key(9))
	f.Add(k.Seal("island:x", []byte(`{"sku":"1"}`)))
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, token string) {
		plain, err := k.Open("island:other", token)
		if err == nil {
			t.Fatalf("%q opened for a purpose nothing sealed for: %q", token, plain)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	k := mustKeys(b, key(1))
	props := []byte(`{"sku":"A-100","n":"3"}`)
	b.ReportAllocs()
	for b.Loop() {
		k.Seal("island:stock", props)
	}
}

func BenchmarkOpen(b *testing.B) {
	k := mustKeys(b, key(1))
	sealed := k.Seal("island:stock", []byte(`{"sku":"A-100","n":"3"}`))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open("island:stock", sealed); err != nil {
			b.Fatal(err)
		}
	}
}
