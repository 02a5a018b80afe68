// Package insertrate measures how fast a database/sql SQLite driver takes
// batched question-log rows, for choosing the driver (see ../README.md).
package insertrate

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Run inserts 5 rounds of 200 transactions × 256 rows and prints the median
// rate.
func Run(driver string) {
	dir, err := os.MkdirTemp("", "drivercmp")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open(driver, "file:"+filepath.Join(dir, "t.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE q(id INTEGER PRIMARY KEY, ts INTEGER, guild TEXT, user_hash TEXT, question TEXT, qkey TEXT, outcome TEXT, story TEXT, para INTEGER, sent INTEGER, score REAL, latency INTEGER, version TEXT)`); err != nil {
		panic(err)
	}
	const batch, batches = 256, 200
	var rates []float64
	for range 5 {
		start := time.Now()
		for range batches {
			tx, err := db.Begin()
			if err != nil {
				panic(err)
			}
			st, err := tx.Prepare(`INSERT INTO q(ts,guild,user_hash,question,qkey,outcome,story,para,sent,score,latency,version) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)`)
			if err != nil {
				panic(err)
			}
			for range batch {
				if _, err := st.Exec(time.Now().UnixMilli(), "123456789012345678", "abcdef0123456789abcdef0123456789", "who favors military strikes against the cartels?", "favor militari strike cartel", "answer", "latin-times", 6, 2, 0.81, 4100, "v1"); err != nil {
					panic(err)
				}
			}
			st.Close()
			if err := tx.Commit(); err != nil {
				panic(err)
			}
		}
		rates = append(rates, float64(batch*batches)/time.Since(start).Seconds())
	}
	sort.Float64s(rates)
	fmt.Printf("%s: median %.0f rows/s (transactions of %d rows; 5 rounds %.0f..%.0f)\n", driver, rates[2], batch, rates[0], rates[4])
}
