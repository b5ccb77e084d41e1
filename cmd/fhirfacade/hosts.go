package main

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/fhirfacade/fhirfacade/facade"
)

// Default of the operations listener (ARCHITECTURE.md contracts).
const defaultOpsListen = "127.0.0.1:9090"

// addresses is what serve derives from the listen and host settings.
type addresses struct {
	base    string         // public FHIR base URL
	hosts   []string       // Host values the API answers for beyond the base URL's
	proxies []netip.Prefix // peers whose forwarding headers are believed
}

// checkAddresses validates FHIRFACADE_BASE_URL, FHIRFACADE_ALLOWED_HOSTS,
// FHIRFACADE_TRUSTED_PROXIES and FHIRFACADE_OPS_LISTEN; each error names
// its variable.
func (o *serveOpts) checkAddresses() (*addresses, error) {
	host, port, err := net.SplitHostPort(o.listen)
	if err != nil {
		return nil, fmt.Errorf("FHIRFACADE_LISTEN=%q: want host:port", o.listen)
	}
	a := &addresses{}
	raw := o.baseURL
	if raw == "" {
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			// http://0.0.0.0:8080/fhir is no address a client can use
			return nil, fmt.Errorf("FHIRFACADE_BASE_URL must be set when FHIRFACADE_LISTEN=%s listens on every address: it is the public URL clients use, and the host the facade answers for", o.listen)
		}
		raw = "http://" + net.JoinHostPort(host, port) + "/fhir"
	}
	if a.base, err = facade.ParseBaseURL(raw); err != nil {
		return nil, fmt.Errorf("FHIRFACADE_BASE_URL: %w", err)
	}
	extra := splitList(o.allowedHosts)
	if err := facade.ParseAllowedHosts(extra); err != nil {
		return nil, fmt.Errorf("FHIRFACADE_ALLOWED_HOSTS: %w", err)
	}
	// loopback names with the listen port: what a local client (curl, the
	// CLI, a health probe on the same machine) sends
	a.hosts = append([]string{"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port}, extra...)
	if a.proxies, err = facade.ParseTrustedProxies(splitList(o.trustedProxies)); err != nil {
		return nil, fmt.Errorf("FHIRFACADE_TRUSTED_PROXIES: %w", err)
	}
	if _, _, err := net.SplitHostPort(o.opsListen); err != nil {
		return nil, fmt.Errorf("FHIRFACADE_OPS_LISTEN=%q: want host:port", o.opsListen)
	}
	if _, p, _ := net.SplitHostPort(o.listen); o.opsListen == o.listen && p != "0" {
		return nil, fmt.Errorf("FHIRFACADE_OPS_LISTEN=%s is FHIRFACADE_LISTEN: the operations endpoints need their own address", o.opsListen)
	}
	return a, nil
}

// listen binds the API and operations addresses before serving, so a taken
// one fails start-up naming its variable.
func (o *serveOpts) listenBoth() (api, ops net.Listener, err error) {
	if api, err = net.Listen("tcp", o.listen); err != nil {
		return nil, nil, fmt.Errorf("FHIRFACADE_LISTEN=%s: %w", o.listen, err)
	}
	if ops, err = net.Listen("tcp", o.opsListen); err != nil {
		api.Close()
		return nil, nil, fmt.Errorf("FHIRFACADE_OPS_LISTEN=%s: %w", o.opsListen, err)
	}
	return api, ops, nil
}
