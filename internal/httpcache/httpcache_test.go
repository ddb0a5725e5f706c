package httpcache

import "testing"

func TestMatches(t *testing.T) {
	const etag = `"abc123"`
	cases := []struct {
		name   string
		header string
		want   bool
	}{
		{"no header never matches", "", false},
		{"the same tag matches", `"abc123"`, true},
		{"a weak form of the tag matches", `W/"abc123"`, true},
		{"a list holding the tag matches", `"zzz", "abc123"`, true},
		{"a star matches", `*`, true},
		{"another tag does not match", `"abc124"`, false},
		{"the tag without quotes does not match", `abc123`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Matches(tc.header, etag); got != tc.want {
				t.Fatalf("Matches(%q) = %v, want %v", tc.header, got, tc.want)
			}
		})
	}
}
