#!/usr/bin/env python3
"""Prints the X11 CLIPBOARD selection's text, as a pasting application would get it: asks the
selection's owner to convert it to UTF8_STRING and reads the reply. Needs no clipboard tool
(xclip, xsel); only libX11, which WebKitGTK already pulls in.

Exit status: 0 with the text on stdout; 1 when the clipboard holds no text (no owner, the
owner cleared it, or it refused the conversion); 2 on a usage or display error.

Usage: x_clipboard.py
"""
import ctypes
import ctypes.util
import sys
import time

SELECTION_NOTIFY = 31
ANY_PROPERTY_TYPE = 0
NONE = 0
TIMEOUT_S = 3.0


class XSelectionEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("requestor", ctypes.c_ulong),
        ("selection", ctypes.c_ulong),
        ("target", ctypes.c_ulong),
        ("property", ctypes.c_ulong),
        ("time", ctypes.c_ulong),
    ]


class XEvent(ctypes.Union):
    _fields_ = [("type", ctypes.c_int), ("xselection", XSelectionEvent), ("pad", ctypes.c_long * 24)]


def main() -> int:
    if len(sys.argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    x11 = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XCreateSimpleWindow.restype = ctypes.c_ulong
    x11.XCreateSimpleWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong] + [ctypes.c_int] * 2 + \
        [ctypes.c_uint] * 3 + [ctypes.c_ulong] * 2
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XGetSelectionOwner.restype = ctypes.c_ulong
    x11.XGetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XConvertSelection.argtypes = [ctypes.c_void_p] + [ctypes.c_ulong] * 5
    x11.XPending.argtypes = [ctypes.c_void_p]
    x11.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.POINTER(XEvent)]
    x11.XGetWindowProperty.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_long, ctypes.c_long,
        ctypes.c_int, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte)),
    ]
    x11.XFree.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]

    display = x11.XOpenDisplay(None)
    if not display:
        print("cannot open the X display", file=sys.stderr)
        return 2
    try:
        clipboard = x11.XInternAtom(display, b"CLIPBOARD", 0)
        if x11.XGetSelectionOwner(display, clipboard) == NONE:
            return 1
        window = x11.XCreateSimpleWindow(display, x11.XDefaultRootWindow(display), 0, 0, 1, 1, 0, 0, 0)
        utf8 = x11.XInternAtom(display, b"UTF8_STRING", 0)
        prop = x11.XInternAtom(display, b"BROKERDESK_TEST_CLIP", 0)
        x11.XConvertSelection(display, clipboard, utf8, prop, window, 0)  # 0 = CurrentTime
        event = XEvent()
        end = time.monotonic() + TIMEOUT_S
        while True:
            if x11.XPending(display):
                x11.XNextEvent(display, ctypes.byref(event))
                if event.type == SELECTION_NOTIFY:
                    break
            elif time.monotonic() > end:
                print("the clipboard owner did not answer", file=sys.stderr)
                return 1
            else:
                time.sleep(0.01)
        if event.xselection.property == NONE:
            return 1  # the owner has no text
        actual_type, actual_format = ctypes.c_ulong(), ctypes.c_int()
        nitems, after = ctypes.c_ulong(), ctypes.c_ulong()
        data = ctypes.POINTER(ctypes.c_ubyte)()
        x11.XGetWindowProperty(display, window, prop, 0, 1 << 20, 1, ANY_PROPERTY_TYPE,
                               ctypes.byref(actual_type), ctypes.byref(actual_format),
                               ctypes.byref(nitems), ctypes.byref(after), ctypes.byref(data))
        if not data:
            return 1
        text = ctypes.string_at(data, nitems.value).decode("utf-8", "replace")
        x11.XFree(data)
        if not text:
            return 1
        sys.stdout.write(text)
        return 0
    finally:
        x11.XCloseDisplay(display)


if __name__ == "__main__":
    sys.exit(main())
