//go:build unix

package knowledge

import (
	"os"
	"syscall"
)

// openFlags open a story without blocking: a named pipe swapped in after
// the Lstat would otherwise wait for a writer forever. Regular files
// ignore O_NONBLOCK.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK
