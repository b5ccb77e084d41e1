package console

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return time.Since(t).Round(time.Second).String() + " ago"
	},
	"pct": func(a, b int64) string {
		if b == 0 {
			return "—"
		}
		return fmt.Sprintf("%.1f%%", float64(a)*100/float64(b))
	},
	"join": strings.Join,
	"now":  func() string { return time.Now().UTC().Format("2006-01-02 15:04:05Z") },
	"base": func() string { return Base },
}

// parseTemplates parses each page with the shared layout (layout.html
// defines "layout"; each page defines "main", and may define "head") and
// the partials (files named _*.html).
func parseTemplates() (map[string]*template.Template, error) {
	layout, err := fs.ReadFile(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.New(name).Funcs(funcs).Parse(string(layout))
		if err == nil {
			_, err = t.ParseFS(templateFS, n, "templates/_*.html")
		}
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// view is what every page's layout reads.
type view struct {
	Title string
	User  string
	CSRF  string
	Nav   string // the current section
	Flash string
	Auth  bool // signed in with OIDC (show sign out)
	Data  any
}

// render writes the page name with data (a *view, or anything else as
// the body of a bare view).
func (c *Console) render(w http.ResponseWriter, _ *http.Request, status int, name string, data any) {
	v, ok := data.(*view)
	if !ok {
		v = &view{Data: data}
	}
	v.Auth = c.cfg.OIDC != nil
	t, tn := c.tmpl[name], "layout"
	if name == "rows" {
		// a partial alone (the overview's polled table body)
		t, tn = c.tmpl["overview"], "rows"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tn, v); err != nil {
		c.cfg.Log.Error("console: render", "page", name, "error", err.Error())
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail answers an error page naming what is wrong.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	c.render(w, r, status, "error", &view{Title: http.StatusText(status), Data: msg})
}

// pageView starts a page's view for session s.
func pageView(s *session, title, nav string, data any) *view {
	return &view{Title: title, User: s.User, CSRF: s.CSRF, Nav: nav, Data: data}
}
