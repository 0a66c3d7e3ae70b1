#!/usr/bin/env python3
"""Write the PE fixtures of tests/unit/test_pe.c (tests/data/pe/README.md). Run once by a
developer when a case is added (python3 make_fixtures.py in this folder); the bytes and the
.expect files are committed, so `make test` needs neither Python nor mingw. Each fixture is a
minimal PE file (one .rsrc section) built field by field, then, for the hostile ones, broken in
exactly one place."""
import struct

RT_VERSION, RT_ICON = 16, 3


def u16(v): return struct.pack('<H', v)
def u32(v): return struct.pack('<I', v)
def pad4(b): return b + b'\0' * (-len(b) % 4)
def wstr(s): return s.encode('utf-16-le') + b'\0\0'


def block(key, value=b'', vtype=0, children=(), vlen=None, wlen=None):
    """One VS_VERSIONINFO-style block: wLength, wValueLength, wType, szKey, pad, value, pad,
    children (each padded to 4)."""
    head_key = pad4(b'\0' * 6 + wstr(key))
    body = head_key + (pad4(value) if children else value)
    for c in children:
        body = pad4(body) + c
    if vlen is None:
        vlen = len(value) // 2 if vtype == 1 else len(value)
    n = len(body) if wlen is None else wlen
    return u16(n) + u16(vlen) + u16(vtype) + body[6:]


def text(key, val):
    return block(key, wstr(val), 1)


def version_info(strings, fixed=(4, 0, 3, 22), tables=None, root_key='VS_VERSION_INFO'):
    ms, ls = fixed[0] << 16 | fixed[1], fixed[2] << 16 | fixed[3]
    ffi = u32(0xFEEF04BD) + u32(0x10000) + u32(ms) + u32(ls) + u32(ms) + u32(ls) + \
        u32(0x3f) + u32(0) + u32(0x40004) + u32(1) + u32(0) + u32(0) + u32(0)
    if tables is None:
        tables = [('080404b0', strings)]
    sts = [block(lang, b'', 1, [pad4(text(k, v)) for k, v in kv]) for lang, kv in tables]
    sfi = block('StringFileInfo', b'', 1, sts)
    vfi = block('VarFileInfo', b'', 1, [block('Translation', u16(0x804) + u16(1200), 0)])
    return block(root_key, ffi, 0, [pad4(sfi), vfi])


def res_dir(entries, named=0):
    return u32(0) + u32(0) + u16(4) + u16(0) + u16(named) + u16(len(entries) - named) + \
        b''.join(u32(n) + u32(o) for n, o in entries)


def rsrc(version, rva, rtype=RT_VERSION, named_first=False, name_off=None, lang_off=None,
         data_rva=None, data_size=None, counts=None):
    """Root (type) -> name -> language -> data entry -> version bytes, laid out in that order."""
    root_entries = [(0x80000000 | 0x1000, 0)] if named_first else []
    root_entries.append((rtype, 0))
    root_len = 16 + 8 * len(root_entries)
    name_at = root_len
    lang_at = name_at + 24
    data_at = lang_at + 24
    ver_at = data_at + 16
    fix = []
    for n, o in root_entries:
        fix.append((n, 0x80000000 | (name_at if name_off is None else name_off)))
    root = res_dir(fix, named=1 if named_first else 0)
    if counts:
        root = root[:12] + u16(counts[0]) + u16(counts[1]) + root[16:]
    name = res_dir([(1, 0x80000000 | (lang_at if lang_off is None else lang_off))])
    lang = res_dir([(0x804, data_at)])
    data = u32(rva + ver_at if data_rva is None else data_rva) + \
        u32(len(version) if data_size is None else data_size) + u32(0) + u32(0)
    return root + name + lang + data + version


def pe(res, pe32=False, raw_ptr=0x200, res_size=None, nsec=1, lfanew=0x40, with_res=True):
    rva = 0x1000
    dos = b'MZ' + b'\0' * 58 + u32(lfanew)
    opt_size = 224 if pe32 else 240
    coff = u16(0x14c if pe32 else 0x8664) + u16(nsec) + u32(0) + u32(0) + u32(0) + \
        u16(opt_size) + u16(0x22)
    opt = bytearray(opt_size)
    struct.pack_into('<H', opt, 0, 0x10b if pe32 else 0x20b)
    nd, dirs = (92, 96) if pe32 else (108, 112)
    struct.pack_into('<I', opt, nd, 16)
    if with_res:
        struct.pack_into('<II', opt, dirs + 16, rva, len(res) if res_size is None else res_size)
    raw = pad4(res)
    sec = b'.rsrc\0\0\0' + u32(len(raw)) + u32(rva) + u32(len(raw)) + u32(raw_ptr) + \
        b'\0' * 12 + u32(0x40000040)
    head = dos + b'PE\0\0' + coff + bytes(opt) + sec
    return head + b'\0' * (0x200 - len(head)) + raw


WECHAT = [('CompanyName', 'Tencent'), ('FileDescription', '微信'), ('FileVersion', '4.0.3.22'),
          ('OriginalFilename', 'WeChat.exe'), ('ProductName', 'Weixin')]
WXWORK = [('CompanyName', 'Tencent'), ('FileDescription', '企业微信'),
          ('FileVersion', '4.1.33.6009'), ('OriginalFilename', 'WXWork.exe'),
          ('ProductName', 'WXWork')]
WECHAT_EXPECT = 'result = ok\nCompanyName = Tencent\nProductName = Weixin\n' \
    'OriginalFilename = WeChat.exe\nFileDescription = 微信\nFileVersion = 4.0.3.22\n' \
    'fixed = 4.0.3.22\n'

cases = {}
v = version_info(WECHAT)
good = pe(rsrc(v, 0x1000))
cases['wechat'] = (good, '# PE32+ with the version strings of Tencent\'s WeChat 4.\n' +
                   WECHAT_EXPECT)
cases['wxwork-pe32'] = (
    pe(rsrc(version_info(WXWORK, (4, 1, 33, 6009)), 0x1000), pe32=True),
    '# PE32 (32-bit optional header), the stand-in WeCom client, a Chinese FileDescription.\n'
    'result = ok\nCompanyName = Tencent\nProductName = WXWork\nOriginalFilename = WXWork.exe\n'
    'FileDescription = 企业微信\nFileVersion = 4.1.33.6009\nfixed = 4.1.33.6009\n')
cases['two-tables-named-first'] = (
    pe(rsrc(version_info(None, tables=[
        ('040904b0', [('CompanyName', 'Tencent'), ('FileDescription', 'WeChat \U0001F4AC')]),
        ('080404b0', [('CompanyName', 'Other'), ('ProductName', 'Weixin')])]),
        0x1000, named_first=True)),
    '# A named resource type before RT_VERSION; two string tables: each key from the first table\n'
    '# that has it; a surrogate pair (U+1F4AC) becomes 4 UTF-8 bytes.\n'
    'result = ok\nCompanyName = Tencent\nProductName = Weixin\nFileDescription = WeChat \U0001F4AC\n'
    'fixed = 4.0.3.22\n')
lone = version_info([('CompanyName', 'Tencent')])
i = lone.index('Tencent'.encode('utf-16-le'))
lone = lone[:i] + u16(0xd800) + lone[i + 2:]
cases['lone-surrogate'] = (pe(rsrc(lone, 0x1000)),
                           '# A lone high surrogate in a string becomes U+FFFD.\n'
                           'result = ok\nCompanyName = \ufffdencent\nfixed = 4.0.3.22\n')
cases['no-strings'] = (
    pe(rsrc(block('VS_VERSION_INFO', b'', 0, []), 0x1000)),
    '# A version block with neither fixed info nor strings: parsed, nothing in it.\nresult = ok\n')
cases['no-version'] = (pe(rsrc(v, 0x1000, rtype=RT_ICON)),
                       '# Resources, but no RT_VERSION.\nresult = ENOENT\n')
cases['no-resources'] = (pe(b'\0' * 16, with_res=False),
                         '# No resource directory at all.\nresult = ENOENT\n')
cases['not-pe'] = (b'#!/bin/sh\necho not a PE file\n' + b'\0' * 64,
                   '# A script.\nresult = ENOEXEC\n')
cases['dos-only'] = (b'MZ' + b'\0' * 58 + u32(0x40) + b'NE\0\0' + b'\0' * 64,
                     '# MZ, but no PE signature (an NE program).\nresult = ENOEXEC\n')
# Hostile: each broken in one place.
H = 'result = EBADMSG\n'
cases['bad-lfanew'] = (pe(rsrc(v, 0x1000), lfanew=0x7ffffff0),
                       '# e_lfanew far past the end of the file.\n' + H)
cases['bad-section-raw'] = (pe(rsrc(v, 0x1000), raw_ptr=0xfffff000),
                            '# The section\'s raw data starts past the end of the file.\n' + H)
cases['bad-nsections'] = (pe(rsrc(v, 0x1000), nsec=0xffff),
                          '# 65535 sections: the section table runs past the end of the file.\n' + H)
cases['bad-res-size'] = (pe(rsrc(v, 0x1000), res_size=8),
                         '# The resource directory says 8 bytes: its own header does not fit.\n' + H)
cases['bad-counts'] = (pe(rsrc(v, 0x1000, counts=(0xffff, 0xffff))),
                       '# A directory claiming 131070 entries.\n' + H)
cases['bad-name-loop'] = (pe(rsrc(v, 0x1000, lang_off=0)),
                          '# The name directory points back to the root: the walk ends at a\n'
                          '# directory where data was due, never loops.\n' + H)
cases['bad-name-self'] = (pe(rsrc(v, 0x1000, name_off=0)),
                          '# RT_VERSION points to the root directory itself.\n' + H)
cases['bad-data-rva'] = (pe(rsrc(v, 0x1000, data_rva=0x90000000)),
                         '# The data entry\'s RVA is in no section.\n' + H)
cases['bad-data-size'] = (pe(rsrc(v, 0x1000, data_size=0x7fffffff)),
                          '# The data entry\'s size runs past the section.\n' + H)
big = bytearray(v)
struct.pack_into('<H', big, 0, len(v) + 64)
cases['bad-root-wlength'] = (pe(rsrc(bytes(big), 0x1000, data_size=len(v))),
                             '# VS_VERSIONINFO\'s wLength is larger than its data.\n' + H)
cases['bad-root-key'] = (pe(rsrc(version_info(WECHAT, root_key='VS_VERSION_INFX'), 0x1000)),
                         '# The root block is not VS_VERSION_INFO.\n' + H)
nokey = bytearray(block('VS_VERSION_INFO', b'', 0, []))
for j in range(6, len(nokey)):
    nokey[j] = 0x41
cases['bad-key-unterminated'] = (pe(rsrc(bytes(nokey), 0x1000)),
                                 '# The root key has no terminating NUL inside its block.\n' + H)
child = bytearray(v)
j = child.index('CompanyName'.encode('utf-16-le')) - 6
struct.pack_into('<H', child, j, 0xfff0)
cases['bad-string-wlength'] = (pe(rsrc(bytes(child), 0x1000)),
                               '# A String block claims more bytes than its string table has.\n' + H)
tiny = bytearray(v)
struct.pack_into('<H', tiny, j, 2)
cases['bad-string-tiny'] = (pe(rsrc(bytes(tiny), 0x1000)),
                            '# A String block of 2 bytes (less than its own header).\n' + H)
cases['bad-truncated'] = (good[:0x200 + 0x58 + 100],
                          '# wechat cut in the middle of its version block.\n' + H)

for name, (data, expect) in cases.items():
    with open(name + '.exe', 'wb') as f:
        f.write(data)
    with open(name + '.expect', 'w') as f:
        f.write(expect)
