package facade

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fhirfacade/fhirfacade/internal/logcap"
)

// The facade speaks FHIR JSON only. No Go library it may depend on gives a
// real R4 XML serialiser (element order from the StructureDefinitions,
// primitive value attributes, extensions on primitives, xhtml, contained,
// choice types): see the README's "Formats" section. So XML is refused
// plainly, on every endpoint, rather than half-served.

// jsonMediaTypes are the media types a body may have and a client may ask
// for: FHIR's own, plain JSON, and the DSTU2 spelling older clients send.
var jsonMediaTypes = []string{"application/fhir+json", "application/json", "application/json+fhir"}

// jsonFormats are the _format values that mean JSON (FHIR R4 http.html#mime-type).
var jsonFormats = append([]string{"json"}, jsonMediaTypes...)

// acceptAny are the Accept ranges that JSON satisfies besides the JSON types.
var acceptAny = []string{"*/*", "application/*"}

// xmlMediaTypes are the XML spellings a client may send as a body's
// Content-Type (all refused with 415).
var xmlMediaTypes = []string{"application/fhir+xml", "application/xml", "text/xml", "application/xml+fhir"}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// jsonList names the JSON media types for refusals.
func jsonList() string { return strings.Join(jsonMediaTypes, ", ") }

// errNotAcceptable is the 406 of a response format the facade cannot give.
func errNotAcceptable(what string) *HTTPError {
	return httpErr(http.StatusNotAcceptable, "not-supported",
		what+" is not supported: this server produces FHIR JSON only ("+jsonList()+"; _format=json); XML is not served")
}

// fhirVersions are the values of the fhirVersion media-type parameter
// this server answers to (R4 http.html#version-parameter): R4's
// "publication and major version", 4.0, and its two releases spelt out,
// 4.0.0 and 4.0.1. Any other (3.0, 4.3, 5.0) asks for a version it does
// not speak: 406 in Accept or _format, 415 on a body.
var fhirVersions = []string{"4.0", "4.0.0", "4.0.1"}

// otherVersion is the fhirVersion params ask for when it is not R4 ("":
// none asked, or R4). mime.ParseMediaType lower-cases parameter names.
func otherVersion(params map[string]string) string {
	if v, ok := params["fhirversion"]; ok && !oneOf(strings.TrimSpace(v), fhirVersions) {
		return logcap.Cut(v, 20)
	}
	return ""
}

// errVersion is the refusal of a fhirVersion other than R4's, in what
// (Accept, _format: 406; Content-Type: 415).
func errVersion(status int, what, version string) *HTTPError {
	return &HTTPError{Status: status, Code: "not-supported",
		Msg: what + " asks for fhirVersion=" + version + ": this server speaks FHIR R4 only (fhirVersion=4.0, or 4.0.1; or leave the parameter out)"}
}

// errUnsupportedBody is the 415 of a request body that is not JSON.
func errUnsupportedBody(ct string) *HTTPError {
	if ct == "" {
		ct = "(none)"
	}
	return httpErr(http.StatusUnsupportedMediaType, "not-supported",
		"Content-Type "+ct+" is not supported: send FHIR JSON ("+jsonList()+"); XML bodies are not accepted")
}

// negotiate is the format check of every FHIR endpoint (metadata
// included): _format and Accept may ask only for JSON (406 otherwise), and
// an XML body is refused with 415 before any handler reads it. Handlers
// that read a body still check its type (body), since other non-JSON types
// are theirs to judge (a form-encoded _search).
func negotiate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := checkFormat(c); err != nil {
			return err
		}
		if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" {
			mt, params, err := mime.ParseMediaType(ct)
			if err == nil && oneOf(mt, xmlMediaTypes) {
				return errUnsupportedBody(mt)
			}
			if v := otherVersion(params); err == nil && v != "" {
				return errVersion(http.StatusUnsupportedMediaType, "Content-Type", v)
			}
		}
		return next(c)
	}
}

// checkFormat enforces JSON: _format and Accept may ask only for it.
func checkFormat(c echo.Context) error {
	// parsing the whole query string only to find _format costs every
	// request a map; a query without "_format" and without any
	// percent-escape (which could spell it) cannot hold it
	if raw := c.Request().URL.RawQuery; strings.Contains(raw, "_format") || strings.Contains(raw, "%") {
		if f := c.QueryParam("_format"); f != "" {
			return formatParam(f)
		}
	}
	acc := c.Request().Header.Get("Accept")
	if acc == "" {
		return nil
	}
	version := "" // a JSON range refused for its fhirVersion
	for _, part := range strings.Split(acc, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		// "q=0" means "not this one" (RFC 9110 12.4.2)
		if q, err := strconv.ParseFloat(params["q"], 64); err == nil && q <= 0 {
			continue
		}
		if oneOf(mt, jsonMediaTypes) || oneOf(mt, acceptAny) {
			if v := otherVersion(params); v != "" {
				version = v
				continue
			}
			return nil
		}
	}
	if version != "" {
		return errVersion(http.StatusNotAcceptable, "Accept", version)
	}
	// the client's text, named but bounded
	return errNotAcceptable("Accept: " + logcap.Cut(acc, 100))
}

// formatParam accepts a _format value that means JSON (it overrides
// Accept), with no fhirVersion or R4's.
func formatParam(f string) error {
	mt, params, err := mime.ParseMediaType(f)
	if err != nil { // "json;" and the like: the type alone decides
		mt, params = strings.TrimSpace(strings.SplitN(f, ";", 2)[0]), nil
	}
	if !oneOf(mt, jsonFormats) {
		return errNotAcceptable("_format=" + f)
	}
	if v := otherVersion(params); v != "" {
		return errVersion(http.StatusNotAcceptable, "_format", v)
	}
	return nil
}

// isJSONBody reports whether a Content-Type names JSON.
func isJSONBody(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && oneOf(mt, jsonMediaTypes)
}
