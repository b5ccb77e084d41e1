package bulk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// Sink stores the files of jobs: a local folder (Dir) or an Azure Blob
// Storage container (Blob).
type Sink interface {
	// Append opens file name of job for appending after its first
	// committed bytes: whatever lies beyond them (a page written but
	// never committed, whole or in part) is dropped first.
	Append(ctx context.Context, job, name string, committed int64) (Writer, error)
	// Read returns the first size bytes of the file (an empty reader
	// when size is 0, written or not).
	Read(ctx context.Context, job, name string, size int64) (io.ReadCloser, error)
	// Remove deletes every file of job (none is not an error).
	Remove(ctx context.Context, job string) error
}

// Writer appends pages to one file.
type Writer interface {
	// Write appends one page durably: when it returns nil the bytes
	// survive a crash, so the caller may commit the new length.
	Write(ctx context.Context, page []byte) error
	Close() error
}

// safeName is what job ids and file names look like (no path separators,
// no dot-dot), checked again here so that no caller can reach outside the
// sink's folder.
var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func checkNames(names ...string) error {
	for _, n := range names {
		if !safeName.MatchString(n) {
			return fmt.Errorf("%w: bad file name", ErrNotFound)
		}
	}
	return nil
}

// Dir is a Sink in a local folder (FHIRFACADE_EXPORT_DIR): one sub-folder
// per job.
type Dir struct{ Root string }

var _ Sink = Dir{}

// Append implements Sink.
func (d Dir) Append(_ context.Context, job, name string, committed int64) (Writer, error) {
	if err := checkNames(job, name); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(d.Root, job), 0o700); err != nil {
		return nil, fmt.Errorf("bulk: export folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(d.Root, job, name), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("bulk: export file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("bulk: export file: %w", err)
	}
	if st.Size() < committed {
		// the control store says more was committed than the file holds:
		// the file was lost or cut by something else; resuming would leave
		// a hole, so the job fails instead
		f.Close()
		return nil, fmt.Errorf("bulk: export file %s holds %d bytes, %d were committed", name, st.Size(), committed)
	}
	// DANGEROUS STEP: cut the file back to the committed length. Bytes
	// past it are a page written before the crash but never committed
	// (its cursor was not saved), whole or in part; the resumed part
	// fetches that page again from the committed cursor, so keeping them
	// would duplicate lines, and a partial line would corrupt the file.
	// Truncating (rather than writing each page to a part file and
	// renaming it) keeps one file per type and one fsync per page.
	if err := f.Truncate(committed); err != nil {
		f.Close()
		return nil, fmt.Errorf("bulk: export file: %w", err)
	}
	if _, err := f.Seek(committed, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("bulk: export file: %w", err)
	}
	return fileWriter{f}, nil
}

type fileWriter struct{ f *os.File }

// Write implements Writer: the page is synced before the caller commits
// its length, so a committed length never points past what the disk holds.
func (w fileWriter) Write(_ context.Context, page []byte) error {
	if len(page) == 0 {
		return nil
	}
	if _, err := w.f.Write(page); err != nil {
		return fmt.Errorf("bulk: export file: %w", err)
	}
	return w.f.Sync()
}

func (w fileWriter) Close() error { return w.f.Close() }

// Read implements Sink.
func (d Dir) Read(_ context.Context, job, name string, size int64) (io.ReadCloser, error) {
	if err := checkNames(job, name); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(d.Root, job, name))
	if errors.Is(err, os.ErrNotExist) && size == 0 {
		return io.NopCloser(&io.LimitedReader{}), nil
	}
	if err != nil {
		return nil, fmt.Errorf("bulk: export file: %w", err)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, size), f}, nil
}

// Remove implements Sink.
func (d Dir) Remove(_ context.Context, job string) error {
	if err := checkNames(job); err != nil {
		return err
	}
	return os.RemoveAll(filepath.Join(d.Root, job))
}
