package convert

import "ferry/dtype"

// rowsOf returns the row length and row count of a tensor shape.
func rowsOf(shape []uint64) (cols, rows int) {
	rows = 1
	for _, d := range shape[1:] {
		rows *= int(d)
	}
	return int(shape[0]), rows
}

// rowBytes returns the bytes of one row of cols values of type t.
func rowBytes(t dtype.Type, cols int) int {
	n, _ := t.RowBytes(cols)
	return n
}

func alignUp(n, a int64) int64 { return (n + a - 1) / a * a }
