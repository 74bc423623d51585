// stdout line-buffered even when it is a pipe or a file (`make abuse | tee`, a CI log), so each
// figure shows as soon as it is printed. Its own file: naming C's `stdout` from Swift 6 needs a
// @preconcurrency import of Glibc without Foundation's re-export beside it.
@preconcurrency import Glibc

func lineBufferStdout() {
    setvbuf(stdout, nil, _IOLBF, 0)
}
