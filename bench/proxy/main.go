// Command proxy is the floor of the fhir-route benchmark: the standard
// library's httputil.ReverseProxy in front of the test FHIR server, with a
// connection pool the size of the facade's and nothing else (no routing,
// no parsing, no logging, no metrics). What it costs against the server
// directly is what any Go proxy costs on this machine; the facade's cost
// beyond it is the facade's own.
package main

import (
	"flag"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
)

func main() {
	to := flag.String("to", "http://127.0.0.1:8089", "upstream base URL")
	listen := flag.String("listen", "127.0.0.1:8094", "address")
	flag.Parse()
	u, err := url.Parse(*to)
	if err != nil {
		log.Fatal(err)
	}
	p := httputil.NewSingleHostReverseProxy(u)
	p.Transport = &http.Transport{MaxConnsPerHost: 64, MaxIdleConnsPerHost: 64}
	log.Fatal(http.ListenAndServe(*listen, p))
}
