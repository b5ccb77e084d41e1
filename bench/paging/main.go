// Command paging measures sorted search paging through the facade (issue 11
// item 9): it walks a search's next links from page 1 to the deepest page
// asked for, keeping the URL of each page in -pages, then requests each kept
// URL -n times, one request at a time, and prints p50/p99 per page. Keeping
// the URLs first means a deep page is timed alone, not the walk to it.
//
// Usage: paging -base http://127.0.0.1:8090 -query '_count=100&_sort=-date'
// -pages 1,50,300 -n 30
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

type bundle struct {
	Link []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link"`
	Entry []json.RawMessage `json:"entry"`
}

// fetch GETs url and returns the bundle, the time to the last byte read and
// the body size.
func fetch(c *http.Client, url string) (bundle, time.Duration, int, error) {
	var b bundle
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		return b, 0, 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return b, d, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return b, d, 0, fmt.Errorf("%s: %d %s", url, resp.StatusCode, body)
	}
	return b, d, len(body), json.Unmarshal(body, &b)
}

func next(b bundle) string {
	for _, l := range b.Link {
		if l.Relation == "next" {
			return l.URL
		}
	}
	return ""
}

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p+0.5)]
}

func ms(d time.Duration) string { return strconv.FormatFloat(d.Seconds()*1000, 'f', 1, 64) + " ms" }

func main() {
	base := flag.String("base", "http://127.0.0.1:8090", "facade base URL")
	typ := flag.String("type", "Observation", "resource type")
	query := flag.String("query", "_count=100&_sort=-date", "search query")
	pagesFlag := flag.String("pages", "1,50,300", "pages to time (1-based)")
	n := flag.Int("n", 30, "requests per kept page")
	label := flag.String("label", "", "label printed on each line")
	flag.Parse()
	var pages []int
	for _, p := range strings.Split(*pagesFlag, ",") {
		v, err := strconv.Atoi(p)
		if err != nil || v < 1 {
			fmt.Fprintln(os.Stderr, "bad -pages:", p)
			os.Exit(2)
		}
		pages = append(pages, v)
	}
	c := &http.Client{Timeout: 5 * time.Minute}
	urls := map[int]string{}
	url := *base + "/fhir/" + *typ + "?" + *query
	var walk []time.Duration
	deepest := slices.Max(pages)
	for page := 1; page <= deepest && url != ""; page++ {
		if slices.Contains(pages, page) {
			urls[page] = url
		}
		b, d, _, err := fetch(c, url)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		walk = append(walk, d)
		url = next(b)
	}
	fmt.Printf("%s walk of %d pages: p50 %s, p99 %s, max %s\n", *label, len(walk), ms(pct(walk, 0.5)), ms(pct(walk, 0.99)), ms(slices.Max(walk)))
	for _, p := range pages {
		u, ok := urls[p]
		if !ok {
			fmt.Printf("%s page %d: not reached (%d pages)\n", *label, p, len(walk))
			continue
		}
		var ds []time.Duration
		var entries, size int
		for range *n {
			b, d, sz, err := fetch(c, u)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			ds = append(ds, d)
			entries, size = len(b.Entry), sz
		}
		fmt.Printf("%s page %d: p50 %s, p99 %s (n=%d, %d entries, %d bytes)\n", *label, p, ms(pct(ds, 0.5)), ms(pct(ds, 0.99)), *n, entries, size)
	}
}
