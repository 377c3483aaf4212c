"""What reviewing needs beside the web pages: review items and annotations, accounts and
sign-in, and playable proxies of the footage."""
