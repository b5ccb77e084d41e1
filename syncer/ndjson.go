package syncer

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fhirfacade/fhirfacade/backend"
	"github.com/fhirfacade/fhirfacade/search"
)

// NDJSONResult counts an export.
type NDJSONResult struct {
	Written, Failed int
	Files           []string
	Failures        []Failure // the first 100
}

// ExportNDJSON writes every legacy resource of typ as NDJSON files for the
// FHIR server's bulk $import (the path Azure recommends for initial loads of
// millions of resources): one type per file, a new file every maxBytes
// (default 512 MiB). Each file is written under a temporary name and renamed
// when complete, so a killed export leaves no truncated file behind; a rerun
// writes the files again from the start.
func ExportNDJSON(ctx context.Context, legacy backend.Backend, typ, dir string, page int, maxBytes int64) (*NDJSONResult, error) {
	if page <= 0 {
		page = 1000
	}
	if maxBytes <= 0 {
		maxBytes = 512 << 20
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	res := &NDJSONResult{}
	var (
		f       *os.File
		w       *bufio.Writer
		size    int64
		tmpName string
		final   string
	)
	closeFile := func() error {
		if f == nil {
			return nil
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		f = nil
		if err := os.Rename(tmpName, final); err != nil {
			return err
		}
		res.Files = append(res.Files, final)
		return nil
	}
	open := func() error {
		final = filepath.Join(dir, fmt.Sprintf("%s-%04d.ndjson", typ, len(res.Files)+1))
		tmpName = final + ".partial"
		var err error
		if f, err = os.Create(tmpName); err != nil {
			return err
		}
		w, size = bufio.NewWriterSize(f, 1<<20), 0
		return nil
	}
	cursor := ""
	for {
		p, err := legacy.Search(ctx, typ, &search.Query{}, backend.SearchOptions{Count: page, Cursor: cursor, Partial: true})
		if err != nil {
			return res, err
		}
		for _, u := range p.Unmappable {
			res.Failed++
			if len(res.Failures) < 100 {
				res.Failures = append(res.Failures, Failure{ID: u.ID, Reason: "legacy row cannot be mapped: " + u.Reason})
			}
		}
		for _, r := range p.Resources {
			if f == nil || size+int64(len(r.JSON))+1 > maxBytes {
				if err := closeFile(); err != nil {
					return res, err
				}
				if err := open(); err != nil {
					return res, err
				}
			}
			w.Write(r.JSON)
			w.WriteByte('\n')
			size += int64(len(r.JSON)) + 1
			res.Written++
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	return res, closeFile()
}
