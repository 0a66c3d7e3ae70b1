#!/bin/sh
exec wine WXWork.exe
