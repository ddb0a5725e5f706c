// Command benchratio reads `go test -bench` output on stdin, passes it
// through, and then prints, for every pair of benchmarks named X/atoll
// and X/floor, the ratio floor ns/op ÷ atoll ns/op: 1.00 means Atoll is as
// fast as a bare Fiber handler doing the same work, 0.50 half as fast.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var line = regexp.MustCompile(`^Benchmark(\S+?)/(atoll|floor)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

func main() {
	ns := map[string]map[string]float64{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		fmt.Println(sc.Text())
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			continue
		}
		if ns[m[1]] == nil {
			ns[m[1]] = map[string]float64{}
		}
		ns[m[1]][m[2]] = v
	}
	names := make([]string, 0, len(ns))
	for n := range ns {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Println()
	fmt.Printf("%-24s %14s %14s %8s\n", "benchmark", "atoll ns/op", "floor ns/op", "ratio")
	fmt.Println(strings.Repeat("-", 63))
	for _, n := range names {
		a, f := ns[n]["atoll"], ns[n]["floor"]
		if a == 0 || f == 0 {
			continue
		}
		fmt.Printf("%-24s %14.0f %14.0f %8.2f\n", n, a, f, f/a)
	}
}
