package convert

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// ProgressBar returns a WriteOptions.Progress function that draws a
// one-line bar on w (a terminal): bytes written of the total, percentage,
// rate and time left. It redraws at most five times a second and ends the
// line when done reaches total.
func ProgressBar(w io.Writer, label string) func(done, total int64) {
	start := time.Now()
	var last time.Time
	finished := false
	return func(done, total int64) {
		if finished {
			return
		}
		now := time.Now()
		end := done >= total
		if !end && now.Sub(last) < 200*time.Millisecond {
			return
		}
		last = now
		elapsed := now.Sub(start).Seconds()
		frac := 1.0
		if total > 0 {
			frac = float64(done) / float64(total)
		}
		const width = 30
		fill := int(frac * width)
		bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
		rate := 0.0
		if elapsed > 0 {
			rate = float64(done) / elapsed
		}
		eta := "--"
		if end {
			eta = fmt.Sprintf("done in %s", fmtDuration(elapsed))
		} else if rate > 0 && done > 0 {
			eta = "ETA " + fmtDuration(float64(total-done)/rate)
		}
		fmt.Fprintf(w, "\r%s [%s] %s / %s %3.0f%% %s/s %s  ", label, bar, fmtBytes(done), fmtBytes(total), 100*frac, fmtBytes(int64(rate)), eta)
		if end {
			fmt.Fprintln(w)
			finished = true
		}
	}
}

func fmtDuration(s float64) string {
	d := time.Duration(s * float64(time.Second))
	if d < time.Minute {
		return fmt.Sprintf("%.0fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// FormatBytes formats a byte count with a binary unit, such as "1.25 GiB".
func FormatBytes(n int64) string { return fmtBytes(n) }

func fmtBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= unit
		if v < unit || u == "TiB" {
			return fmt.Sprintf("%.2f %s", v, u)
		}
	}
	return ""
}
