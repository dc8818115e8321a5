//go:build race

package model

// raceEnabled: the race detector's instrumentation allocates, so allocation
// counts are meaningless under it.
const raceEnabled = true
