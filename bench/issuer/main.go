// Command issuer is a local OAuth issuer for the auth benchmark and the
// README walkthrough: it makes an RSA key at start, serves its JWKS and
// OpenID configuration on loopback, and writes a signed access token with
// the given scope to a file.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8099", "address to serve the JWKS on")
	aud := flag.String("audience", "http://127.0.0.1:8090/fhir", "aud of the token")
	scope := flag.String("scope", "system/*.rs", "scope of the token")
	patient := flag.String("patient", "", "patient claim (for patient/ scopes)")
	out := flag.String("token-file", "token.txt", "where to write the token")
	flag.Parse()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	iss := "http://" + *listen
	pub, err := jwk.Import(&key.PublicKey)
	if err != nil {
		log.Fatal(err)
	}
	_ = pub.Set(jwk.KeyIDKey, "bench-1")
	_ = pub.Set(jwk.AlgorithmKey, jwa.RS256())
	set := jwk.NewSet()
	_ = set.AddKey(pub)
	claims := map[string]any{"iss": iss, "aud": *aud, "sub": "bench-user", "azp": "bench-client", "scope": *scope,
		"iat": time.Now().Unix(), "exp": time.Now().Add(12 * time.Hour).Unix()}
	if *patient != "" {
		claims["patient"] = *patient
	}
	payload, _ := json.Marshal(claims)
	hdr := jws.NewHeaders()
	_ = hdr.Set(jws.KeyIDKey, "bench-1")
	tok, err := jws.Sign(payload, jws.WithKey(jwa.RS256(), key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, tok, 0o600); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode(set) })
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": iss, "jwks_uri": iss + "/jwks", "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token"})
	})
	fmt.Fprintf(os.Stderr, "issuer %s, JWKS %s/jwks, token in %s\n", iss, iss, *out)
	log.Fatal(http.ListenAndServe(*listen, mux))
}
