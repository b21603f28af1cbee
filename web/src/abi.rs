//! The WebAssembly boundary: the page writes a JSON request into module memory and reads the
//! JSON answer back (docs/booth.md, "The module's interface"). No wasm-bindgen: four exported
//! functions and plain linear memory, so the page's loader is a few lines of JavaScript and
//! the build needs no generator.
//!
//! The page calls, in order:
//! 1. `evote_request(len) -> ptr`: a buffer of `len` bytes for the request (0 if `len` is
//!    above [`crate::MAX_REQUEST_BYTES`]);
//! 2. `evote_call() -> len`: runs the request in that buffer, zeroizes it, and returns the
//!    length of the answer;
//! 3. `evote_answer() -> ptr`: where the answer's bytes are, valid until the next call.
//!
//! This is the crate's only unsafe code: the two exported names (`no_mangle`) and nothing
//! else — the buffers are `Vec`s the module owns, handed out as addresses and read back
//! through the `Vec`, never through a pointer the page gave.
#![allow(unsafe_code)]

use std::cell::RefCell;
use zeroize::Zeroize;

struct Module {
    booth: Option<crate::Booth>,
    request: Vec<u8>,
    answer: Vec<u8>,
}

thread_local! {
    // WebAssembly here is single-threaded: one module state per page.
    static MODULE: RefCell<Module> = const {
        RefCell::new(Module {
            booth: None,
            request: Vec::new(),
            answer: Vec::new(),
        })
    };
}

/// A zeroed request buffer of `len` bytes; its address (0 when `len` is too large).
#[no_mangle]
pub extern "C" fn evote_request(len: usize) -> *mut u8 {
    if len > crate::MAX_REQUEST_BYTES {
        return core::ptr::null_mut();
    }
    MODULE.with(|m| {
        let mut m = m.borrow_mut();
        m.request.zeroize();
        m.request = vec![0u8; len];
        m.request.as_mut_ptr()
    })
}

/// Runs the request in the buffer and returns the answer's length.
#[no_mangle]
pub extern "C" fn evote_call() -> usize {
    MODULE.with(|m| {
        let mut m = m.borrow_mut();
        let Module {
            booth,
            request,
            answer,
        } = &mut *m;
        let text = crate::call(booth, request);
        // The request may have carried the voter's credential.
        request.zeroize();
        answer.zeroize();
        *answer = text.into_bytes();
        answer.len()
    })
}

/// The address of the last answer.
#[no_mangle]
pub extern "C" fn evote_answer() -> *const u8 {
    MODULE.with(|m| m.borrow().answer.as_ptr())
}
