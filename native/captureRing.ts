// The capture ring's size (native/capture/capture.h): plain values, no koffi, so config can
// check TAPE_CAPTURE_RING without loading the binding.

/** Capture ring bounds, as tape_capture_reset accepts them (TAPE_MIN/MAX_CAPACITY in capture.h). */
export const RING_MIN = 1 << 14;
export const RING_MAX = 1 << 22;
/** 65,536 records (16 MiB): ~1.5 s of 40,000 events/s of JS stall (TAPE_CAPTURE_RING raises it). */
export const DEFAULT_RING = 1 << 16;
