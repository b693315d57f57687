# Convenience targets over ./setup.sh (which installs what is missing, then uses CMake).
.PHONY: demo test deps build sanitize fuzz bench clean
demo:     ; ./setup.sh demo
test:     ; ./setup.sh test
deps:     ; ./setup.sh deps
build:    ; ./setup.sh build
sanitize: ; ./setup.sh sanitize
fuzz:     ; ./setup.sh fuzz
bench: build
	cmake --build build --target benches
	./bench/run.sh build
clean:    ; rm -rf build build-asan build-fuzz
