#!/usr/bin/env perl
# filter_scp.pl [--exclude] [-f <field>] <id-list> [<in.scp>] > out.scp
# Keep (or with --exclude drop) the lines of in.scp whose field <field> (default 1) is the first
# field of a line in id-list. Order of in.scp is kept.
use strict;
use warnings;
my ($exclude, $field) = (0, 1);
while (@ARGV && $ARGV[0] =~ /^-/) {
    my $a = shift @ARGV;
    if ($a eq '--exclude') { $exclude = 1; }
    elsif ($a eq '-f') { $field = shift @ARGV; }
    else { die "filter_scp.pl: unknown option $a\n"; }
}
die "Usage: filter_scp.pl [--exclude] [-f <field>] <id-list> [<in.scp>]\n" unless @ARGV >= 1;
my $idlist = shift @ARGV;
open(my $fh, '<', $idlist) or die "filter_scp.pl: cannot open $idlist: $!\n";
my %keep;
while (<$fh>) { my ($k) = split; $keep{$k} = 1 if defined $k; }
close $fh;
while (<>) {
    my @f = split;
    next unless @f;
    my $k = $f[$field - 1];
    die "filter_scp.pl: line $. has fewer than $field fields\n" unless defined $k;
    print if ($exclude xor exists $keep{$k});
}
