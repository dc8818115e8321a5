// Package tier is the residency manager: it knows where every weight tensor
// lives in the model file and hands its bytes to the model on request.
//
// A tensor is cut into spans (runs of whole rows, aligned to experts for MoE
// tensors); a span is the unit of residency. The planner (package plan)
// makes each span resident (read once, held for the run) or streamed (read
// into a fixed staging ring just before use, dropped right after). The model
// asks for a span with Acquire, computes with it and gives it back with
// Release; a streamed span has usually arrived already, because a prefetcher
// walks the model's schedule ahead of compute.
package tier

import (
	"fmt"

	"ferry/dtype"
)

// Tensor is one weight tensor and its spans.
type Tensor struct {
	Name string
	Type dtype.Type
	// Shape lists the dimensions innermost first: Shape[0] is the row length.
	Shape []int
	// Offset and Size locate the tensor's bytes in the model file.
	Offset, Size int64

	store *Store
	spans []*span
}

// span is a run of rows [row0, row1) of a tensor.
type span struct {
	t          *Tensor
	index      int
	row0, row1 int
	off, size  int64  // in the file
	data       []byte // held bytes when resident
	resident   bool
	typ        dtype.Type // the type data is in: the tensor's, or a packed layout (see Pack)
	sched      int        // position in the stream schedule, -1 when not streamed
}

// Cols returns the row length (the innermost dimension).
func (t *Tensor) Cols() int { return t.Shape[0] }

// Rows returns the number of rows: the product of all but the innermost dimension.
func (t *Tensor) Rows() int {
	n := 1
	for _, d := range t.Shape[1:] {
		n *= d
	}
	return n
}

// RowBytes returns the size in bytes of one row.
func (t *Tensor) RowBytes() int {
	n, _ := t.Type.RowBytes(t.Shape[0])
	return n
}

// Spans returns the number of spans the tensor is cut into.
func (t *Tensor) Spans() int { return len(t.spans) }

// SpanRows returns the rows [row0, row1) that span i covers.
func (t *Tensor) SpanRows(i int) (row0, row1 int) { return t.spans[i].row0, t.spans[i].row1 }

// Acquire returns the bytes of span i, waiting for them if they are being
// read. They stay valid until the matching Release. Spans of streamed
// tensors must be acquired in schedule order and released before the next
// Acquire.
func (t *Tensor) Acquire(i int) []byte {
	sp := t.spans[i]
	if sp.resident {
		return sp.data
	}
	return t.store.acquire(sp)
}

// SpanType returns the type to compute with on the bytes Acquire(i)
// returns: the tensor's Type, or the packed layout Pack put a resident span
// in.
func (t *Tensor) SpanType(i int) dtype.Type { return t.spans[i].typ }

// Pack offers the bytes of every resident span of t to pack, which may
// rewrite them in place into a layout of the same size that the kernels
// read faster and returns the type that names it (or typ, leaving them
// alone): kernels.Pack. It is for tensors used only as matrices: Row and
// ReadTensor keep reading the file's layout, but a packed span's bytes are
// no longer rows of t.Type. Memory-mapped stores, whose spans are the
// file's pages, are left alone; so are spans that stream.
func (t *Tensor) Pack(pack func(typ dtype.Type, data []byte, cols int) dtype.Type) {
	if t.store != nil && t.store.mapped != nil {
		return
	}
	for _, sp := range t.spans {
		if sp.resident && sp.typ == t.Type {
			sp.typ = pack(t.Type, sp.data, t.Cols())
		}
	}
}

// Release gives back span i.
func (t *Tensor) Release(i int) {
	sp := t.spans[i]
	if !sp.resident {
		t.store.release(sp)
	}
}

// Resident reports whether every span of t is held in memory.
func (t *Tensor) Resident() bool {
	for _, sp := range t.spans {
		if !sp.resident {
			return false
		}
	}
	return true
}

// Row returns the bytes of row i, reading just that row when the tensor is
// not resident. The slice is valid until the next call to Row on any tensor
// of the store. It is how embeddings are looked up: one row per token.
func (t *Tensor) Row(i int) ([]byte, error) {
	if i < 0 || i >= t.Rows() {
		return nil, fmt.Errorf("tier: row %d of %s out of range", i, t.Name)
	}
	rb := t.RowBytes()
	for _, sp := range t.spans {
		if sp.resident && sp.typ == t.Type && i >= sp.row0 && i < sp.row1 {
			o := (i - sp.row0) * rb
			return sp.data[o : o+rb], nil
		}
	}
	return t.store.readRow(t.Offset+int64(i)*int64(rb), rb)
}

// ResidentRow returns the resident span that holds row i, in the layout
// SpanType gives it (which Pack may have changed), and the row's index in
// it; ok is false when the row is not held in memory. A packed span's
// rows are read through the kernels (kernels.UnpackRow), where Row would
// read the file.
func (t *Tensor) ResidentRow(i int) (data []byte, typ dtype.Type, r int, ok bool) {
	for _, sp := range t.spans {
		if sp.resident && i >= sp.row0 && i < sp.row1 {
			return sp.data, sp.typ, i - sp.row0, true
		}
	}
	return nil, 0, 0, false
}

// spanAlign is the multiple of rows, counted from the start of the
// tensor or of its expert, at which spans of more than four times as many
// rows are cut: the packed layouts (kernels.Pack) rewrite spans in units
// of up to 32 rows, and leave alone a span that is not a whole number of
// them (a 215 MB output head cut evenly into 16 MiB spans had kept the
// file's layout and its slower loop).
const spanAlign = 32

// cut divides t into spans of at most maxBytes, each a whole number of rows
// and, for 3-D tensors (a stack of expert matrices), never crossing an
// expert; where spans hold more than 4*spanAlign rows, they start at
// multiples of spanAlign, and the rows after the last multiple (if any)
// make the group's last span.
func (t *Tensor) cut(maxBytes int64) {
	rows, rb := t.Rows(), int64(t.RowBytes())
	group := rows // rows that must stay together at a boundary
	if len(t.Shape) >= 3 {
		group = t.Shape[1]
	}
	perSpan := max(int(maxBytes/max(rb, 1)), 1)
	align := 1
	if perSpan > 4*spanAlign {
		// Boundaries rounded down to spanAlign grow a span by less than
		// spanAlign rows: cut for that many fewer.
		align, perSpan = spanAlign, perSpan-spanAlign+1
	}
	add := func(r0, r1 int) {
		t.spans = append(t.spans, &span{
			t: t, index: len(t.spans), row0: r0, row1: r1,
			off: t.Offset + int64(r0)*rb, size: int64(r1-r0) * rb, sched: -1, typ: t.Type,
		})
	}
	for g0 := 0; g0 < rows; g0 += group {
		g1 := min(g0+group, rows)
		// Rows past the last multiple of align (a vocabulary of 32001)
		// make a span of their own, so that the others stay whole units.
		body := g1 - (g1-g0)%align
		n := (body - g0 + perSpan - 1) / perSpan // spans in this group
		for k := 0; k < n; k++ {
			r0 := g0 + (body-g0)*k/n/align*align
			r1 := g0 + (body-g0)*(k+1)/n/align*align
			if k == n-1 {
				r1 = body
			}
			add(r0, r1)
		}
		if body < g1 {
			add(body, g1)
		}
	}
}
