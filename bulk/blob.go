package bulk

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// Blob is a Sink in an Azure Blob Storage container
// (FHIRFACADE_EXPORT_BLOB), through the Azure SDK (azblob): one blob per
// file, named JOB/FILE, each a block blob with one block per page. The
// block ids are the page's byte offset, so a resumed file keeps exactly
// the committed blocks that make up its committed length.
type Blob struct {
	c *container.Client
}

var _ Sink = (*Blob)(nil)

// NewBlob opens the container at containerURL, authenticated by the
// storage connection string conn when set, else by azidentity's
// DefaultAzureCredential (managed identity, workload identity,
// environment, Azure CLI). It checks the container answers, so a wrong
// URL or credential fails at start-up.
func NewBlob(ctx context.Context, containerURL, conn string) (*Blob, error) {
	u, err := url.Parse(containerURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return nil, errors.New("want a container URL, https://ACCOUNT.blob.core.windows.net/CONTAINER")
	}
	var c *container.Client
	if conn != "" {
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		c, err = container.NewClientFromConnectionString(conn, parts[len(parts)-1], nil)
	} else {
		var cred azcore.TokenCredential
		if cred, err = azidentity.NewDefaultAzureCredential(nil); err == nil {
			c, err = container.NewClient(containerURL, cred, nil)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("blob container: %w", err)
	}
	if _, err := c.GetProperties(ctx, nil); err != nil {
		return nil, fmt.Errorf("blob container %s does not answer: %s", u.Redacted(), blobCode(err))
	}
	return &Blob{c: c}, nil
}

// blobCode is the storage error code of err (never its text, which may
// carry request URLs with signatures).
func blobCode(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fmt.Sprintf("%d %s", re.StatusCode, re.ErrorCode)
	}
	return "unreachable"
}

func blockID(offset int64) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%020d", offset))
}

// Append implements Sink.
func (b *Blob) Append(ctx context.Context, job, name string, committed int64) (Writer, error) {
	if err := checkNames(job, name); err != nil {
		return nil, err
	}
	bb := b.c.NewBlockBlobClient(job + "/" + name)
	w := &blobWriter{bb: bb}
	list, err := bb.GetBlockList(ctx, blockblob.BlockListTypeCommitted, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
		return nil, fmt.Errorf("bulk: blob %s: %s", name, blobCode(err))
	}
	// DANGEROUS STEP: keep the committed blocks up to the committed
	// length only. A block past it is a page committed to the blob but
	// not to the control store (the facade died between the two): its
	// page is fetched again and re-staged under the same id, and the next
	// CommitBlockList names only the kept blocks plus it, which drops the
	// old one — no duplicate lines.
	for _, blk := range list.CommittedBlocks {
		if w.size == committed {
			break
		}
		w.ids = append(w.ids, *blk.Name)
		w.size += *blk.Size
	}
	if w.size != committed {
		return nil, fmt.Errorf("bulk: blob %s holds %d bytes in whole blocks, %d were committed", name, w.size, committed)
	}
	return w, nil
}

type blobWriter struct {
	bb   *blockblob.Client
	ids  []string
	size int64
}

// Write implements Writer: stage the page as a block, then commit the
// block list (the blob is then durably that long).
func (w *blobWriter) Write(ctx context.Context, page []byte) error {
	if len(page) == 0 {
		return nil
	}
	id := blockID(w.size)
	if _, err := w.bb.StageBlock(ctx, id, streaming.NopCloser(bytes.NewReader(page)), nil); err != nil {
		return fmt.Errorf("bulk: stage block: %s", blobCode(err))
	}
	ct := "application/fhir+ndjson"
	ids := append(w.ids, id)
	if _, err := w.bb.CommitBlockList(ctx, ids, &blockblob.CommitBlockListOptions{HTTPHeaders: &blob.HTTPHeaders{BlobContentType: &ct}}); err != nil {
		return fmt.Errorf("bulk: commit blocks: %s", blobCode(err))
	}
	w.ids, w.size = ids, w.size+int64(len(page))
	return nil
}

func (w *blobWriter) Close() error { return nil }

// Read implements Sink.
func (b *Blob) Read(ctx context.Context, job, name string, size int64) (io.ReadCloser, error) {
	if err := checkNames(job, name); err != nil {
		return nil, err
	}
	if size == 0 {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	res, err := b.c.NewBlobClient(job+"/"+name).DownloadStream(ctx, &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: 0, Count: size}})
	if err != nil {
		return nil, fmt.Errorf("bulk: blob %s: %s", name, blobCode(err))
	}
	return res.Body, nil
}

// Remove implements Sink.
func (b *Blob) Remove(ctx context.Context, job string) error {
	if err := checkNames(job); err != nil {
		return err
	}
	prefix := job + "/"
	pager := b.c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("bulk: list blobs: %s", blobCode(err))
		}
		for _, it := range page.Segment.BlobItems {
			if _, err := b.c.NewBlobClient(*it.Name).Delete(ctx, nil); err != nil && !bloberror.HasCode(err, bloberror.BlobNotFound) {
				return fmt.Errorf("bulk: delete blob: %s", blobCode(err))
			}
		}
	}
	return nil
}
