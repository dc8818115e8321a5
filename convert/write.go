package convert

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"syscall"

	"ferry/dtype"
	"ferry/gguf"
)

// Tensor is one tensor of a GGUF file being written by Write.
type Tensor struct {
	Name string // the tensor's name, such as blk.0.attn_q.weight
	// Shape lists the dimensions innermost first, as GGML orders them.
	Shape []uint64
	Type  dtype.Type // the type of the stored values
	// Encode writes rows [row, row+n) of the tensor, encoded as Type, into
	// dst, which holds exactly their bytes. Rows are counted over all but
	// the innermost dimension. Encode is called from several goroutines at
	// once, for different rows.
	Encode func(dst []byte, row, n int) error
}

// WriteOptions tune Write and WriteFile.
type WriteOptions struct {
	// Threads is the number of goroutines encoding at once (default:
	// GOMAXPROCS).
	Threads int
	// ChunkValues is the number of values one unit of work encodes (whole
	// rows, at least one); default 1<<20.
	ChunkValues int
	// Progress, when set, is called after each piece written with the bytes
	// written so far and the file's total size.
	Progress func(done, total int64)
}

// chunk is one unit of work: n rows of one tensor.
type chunk struct {
	t      *Tensor
	row, n int
	buf    []byte
	last   bool // the tensor's last chunk: pad after it
	err    error
	done   chan struct{}
}

// Write writes a GGUF file holding kv and tensors to w, streaming: rows are
// encoded in chunks by several goroutines and written in order, so memory
// holds a few chunks, never a whole tensor. It returns the bytes written.
func Write(ctx context.Context, w io.Writer, kv []gguf.KV, tensors []Tensor, opts WriteOptions) (int64, error) {
	infos := make([]gguf.TensorInfo, len(tensors))
	for i, t := range tensors {
		infos[i] = gguf.TensorInfo{Name: t.Name, Shape: t.Shape, Type: t.Type}
	}
	layout, err := gguf.NewLayout(kv, infos)
	if err != nil {
		return 0, err
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	chunkValues := opts.ChunkValues
	if chunkValues <= 0 {
		chunkValues = 1 << 20
	}

	bw := bufio.NewWriterSize(w, 1<<20)
	var written int64
	put := func(p []byte) error {
		n, err := bw.Write(p)
		written += int64(n)
		return err
	}
	progress := func() {
		if opts.Progress != nil {
			opts.Progress(written, layout.FileSize)
		}
	}
	if err := put(layout.Header); err != nil {
		return written, err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	inflight := 2*threads + 2
	queue := make(chan *chunk, inflight) // chunks in file order, for the writer
	work := make(chan *chunk, inflight)  // the same chunks, for the encoders
	var pool sync.Pool
	getBuf := func(n int) []byte {
		if b, ok := pool.Get().(*[]byte); ok && cap(*b) >= n {
			return (*b)[:n]
		}
		return make([]byte, n)
	}

	go func() { // producer
		defer close(work)
		defer close(queue)
		for i := range tensors {
			t := &tensors[i]
			cols, rows := rowsOf(t.Shape)
			per := max(1, chunkValues/max(cols, 1))
			for row := 0; row < rows; row += per {
				c := &chunk{t: t, row: row, n: min(per, rows-row), last: row+per >= rows, done: make(chan struct{})}
				select {
				case queue <- c:
				case <-ctx.Done():
					return
				}
				work <- c
			}
		}
	}()
	var wg sync.WaitGroup
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				if err := ctx.Err(); err != nil {
					c.err = err
				} else {
					c.buf = getBuf(c.n * rowBytes(c.t.Type, int(c.t.Shape[0])))
					c.err = c.t.Encode(c.buf, c.row, c.n)
					if c.err != nil {
						c.err = fmt.Errorf("tensor %s: %w", c.t.Name, c.err)
					}
				}
				close(c.done)
			}
		}()
	}
	fail := func(err error) (int64, error) {
		cancel()
		for c := range queue {
			<-c.done
		}
		wg.Wait()
		return written, err
	}

	for c := range queue {
		<-c.done
		if c.err != nil {
			return fail(c.err)
		}
		if err := put(c.buf); err != nil {
			return fail(err)
		}
		buf := c.buf
		c.buf = nil
		pool.Put(&buf)
		if c.last {
			if pad := alignUp(written, layout.Alignment) - written; pad > 0 {
				if err := put(make([]byte, pad)); err != nil {
					return fail(err)
				}
			}
		}
		progress()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return written, err
	}
	if err := bw.Flush(); err != nil {
		return written, err
	}
	if written != layout.FileSize {
		return written, fmt.Errorf("wrote %d bytes, the layout has %d", written, layout.FileSize)
	}
	progress()
	return written, nil
}

// WriteFile writes a GGUF file at path as Write does. It writes path+".tmp"
// and renames it to path once everything is written and closed; on any
// error it removes the temporary file. When path names an existing file
// that is not a regular file (a device such as /dev/null), it writes there
// directly.
func WriteFile(ctx context.Context, path string, kv []gguf.KV, tensors []Tensor, opts WriteOptions) error {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		if st.IsDir() {
			return fmt.Errorf("%s is a directory", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = Write(ctx, f, kv, tensors, opts)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return explain(path, err)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = Write(ctx, f, kv, tensors, opts)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return explain(path, err)
	}
	return nil
}

// explain wraps a write error with the file's name and, for a full disk, says so.
func explain(path string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("writing %s: the disk is full: %w", path, err)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("writing %s: interrupted", path)
	}
	return fmt.Errorf("writing %s: %w", path, err)
}
