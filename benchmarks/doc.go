// Package benchmarks holds passauth's benchmarks against its peers. It is a
// module of its own so that the peers never enter the library's requirements;
// the benchmarks live in the package's test files.
package benchmarks
