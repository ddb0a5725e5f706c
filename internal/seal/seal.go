// Package seal encrypts and authenticates small values (island props,
// batch lists) that travel through the browser, with AES-256-GCM. The
// nonce is synthetic: an HMAC-SHA256, under a key derived from the
// sealing key, of the purpose and the plaintext. So the same value sealed
// for the same purpose with the same key gives the same text — replicas
// of one build render identical pages and ETags — and two different
// values never share a nonce. Sealed values reveal only that they are
// equal, which the URLs they sit in show anyway. Each sealed value is
// bound to a purpose, such as the island's name, so a value sealed for
// one island never opens for another.
//
// Keys rotate without breaking pages already in caches: the first key
// seals, every key opens.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a key in bytes.
const KeySize = 32

const version = 1

// ErrInvalid is returned for anything that does not open: tampered,
// truncated, garbage, sealed with an unknown key or for another purpose.
var ErrInvalid = errors.New("seal: invalid or tampered value")

// Keys seals with the first key and opens with any.
type Keys struct {
	aeads []cipher.AEAD
	// nonceKey derives the sealing key's synthetic nonces.
	nonceKey []byte
}

// New returns Keys for raw 32-byte keys; the first one seals.
func New(raw ...[]byte) (*Keys, error) {
	if len(raw) == 0 {
		return nil, errors.New("seal: no key")
	}
	k := &Keys{}
	for i, key := range raw {
		if len(key) != KeySize {
			return nil, fmt.Errorf("seal: key %d is %d bytes, want %d", i+1, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.aeads = append(k.aeads, aead)
	}
	mac := hmac.New(sha256.New, raw[0])
	mac.Write([]byte("atoll seal nonce v1"))
	k.nonceKey = mac.Sum(nil)
	return k, nil
}

// ParseKeys decodes a comma-separated list of base64 keys, as ATOLL_KEYS
// holds them.
func ParseKeys(list string) ([][]byte, error) {
	var keys [][]byte
	for i, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			b, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		}
		if err != nil {
			return nil, fmt.Errorf("key %d is not base64", i+1)
		}
		if len(b) != KeySize {
			return nil, fmt.Errorf("key %d is %d bytes, want %d", i+1, len(b), KeySize)
		}
		keys = append(keys, b)
	}
	if len(keys) == 0 {
		return nil, errors.New("no key")
	}
	return keys, nil
}

// GenerateKey returns a fresh random key, base64-encoded.
func GenerateKey() string {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Seal encrypts plaintext for purpose and returns URL-safe text.
func (k *Keys) Seal(purpose string, plaintext []byte) string {
	aead := k.aeads[0]
	out := make([]byte, 1, 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = version
	mac := hmac.New(sha256.New, k.nonceKey)
	mac.Write([]byte(purpose))
	mac.Write([]byte{0})
	mac.Write(plaintext)
	nonce := mac.Sum(nil)[:aead.NonceSize()]
	out = append(out, nonce...)
	out = aead.Seal(out, nonce, plaintext, []byte(purpose))
	return base64.RawURLEncoding.EncodeToString(out)
}

// Open reverses Seal. Every failure is ErrInvalid.
func (k *Keys) Open(purpose, sealed string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < 1 || raw[0] != version {
		return nil, ErrInvalid
	}
	raw = raw[1:]
	for _, aead := range k.aeads {
		ns := aead.NonceSize()
		if len(raw) < ns+aead.Overhead() {
			return nil, ErrInvalid
		}
		if plain, err := aead.Open(nil, raw[:ns], raw[ns:], []byte(purpose)); err == nil {
			return plain, nil
		}
	}
	return nil, ErrInvalid
}
