//go:build !unix

package knowledge

import "os"

const openFlags = os.O_RDONLY
