package facade

import "github.com/labstack/echo/v4"

// smartConfiguration serves the SMART on FHIR discovery document
// (/.well-known/smart-configuration): public, like the CapabilityStatement.
type smartConfiguration struct {
	doc map[string]any // nil: auth off, 404
}

func (h smartConfiguration) serve(c echo.Context) error {
	if h.doc == nil {
		return httpErr(404, "not-found", "SMART on FHIR is not enabled on this server (FHIRFACADE_AUTH=off)")
	}
	return c.JSON(200, h.doc)
}
