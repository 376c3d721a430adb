#!/usr/bin/env perl
# Split a Kaldi table into N pieces of nearly equal line counts, keeping order:
#   split_scp.pl in.scp out.1.scp ... out.N.scp
#   split_scp.pl -j N k in.scp [out]          (write only piece k of N, 0-based, to out or stdout)
#   split_scp.pl --utt2spk=utt2spk in.scp out.1 ... out.N   (never split a speaker across pieces)
# It is an error for a piece to come out empty.
use strict;
use warnings;

my ($num_jobs, $job_id, $utt2spk);
while (@ARGV && $ARGV[0] =~ /^-/) {
    my $a = shift @ARGV;
    if ($a eq '-j') { $num_jobs = shift @ARGV; $job_id = shift @ARGV; }
    elsif ($a =~ /^--utt2spk=(.+)$/) { $utt2spk = $1; }
    elsif ($a eq '--utt2spk') { $utt2spk = shift @ARGV; }
    else { die "split_scp.pl: unknown option $a\n"; }
}
die "Usage: split_scp.pl [--utt2spk=<file>] <in.scp> <out1.scp> ... <outN.scp>\n"
  . "   or: split_scp.pl -j <N> <k> <in.scp> [<out.scp>]\n" unless @ARGV >= 1;
my $in = shift @ARGV;
my @outs = @ARGV;
if (defined $num_jobs) {
    die "split_scp.pl: -j needs N >= 1 and 0 <= k < N\n"
        unless $num_jobs =~ /^\d+$/ && $job_id =~ /^\d+$/ && $num_jobs >= 1 && $job_id < $num_jobs;
    die "split_scp.pl: with -j give at most one output file\n" if @outs > 1;
} else {
    die "split_scp.pl: no output files given\n" unless @outs;
    $num_jobs = @outs;
}

open(my $fh, '<', $in) or die "split_scp.pl: cannot open $in: $!\n";
my @lines = <$fh>;
close $fh;
die "split_scp.pl: $in is empty\n" unless @lines;

# Group lines into units: single lines, or all lines of one speaker.
my @units;
if (defined $utt2spk) {
    open(my $u, '<', $utt2spk) or die "split_scp.pl: cannot open $utt2spk: $!\n";
    my %spk;
    while (<$u>) { my ($utt, $s) = split; $spk{$utt} = $s if defined $s; }
    close $u;
    my $prev;
    for my $i (0 .. $#lines) {
        my ($key) = split(' ', $lines[$i]);
        my $s = $spk{$key};
        die "split_scp.pl: $in line " . ($i + 1) . ": utterance '$key' is not in $utt2spk\n" unless defined $s;
        if (!defined $prev || $s ne $prev) { push @units, []; }
        push @{$units[-1]}, $lines[$i];
        $prev = $s;
    }
} else {
    @units = map { [$_] } @lines;
}
die "split_scp.pl: cannot split " . scalar(@units) . " " . (defined $utt2spk ? 'speakers' : 'lines')
  . " of $in into $num_jobs non-empty pieces\n" if @units < $num_jobs;

# Contiguous pieces balanced by line count.
my @pieces = map { [] } 1 .. $num_jobs;
my $total = @lines;
my ($done, $piece) = (0, 0);
for my $i (0 .. $#units) {
    my $remaining_units = @units - $i;
    my $remaining_pieces = $num_jobs - $piece;
    if (@{$pieces[$piece]} && $piece < $num_jobs - 1
        && ($done >= $total * ($piece + 1) / $num_jobs || $remaining_units <= $remaining_pieces - 1 + 0)) {
        $piece++;
    }
    push @{$pieces[$piece]}, @{$units[$i]};
    $done += @{$units[$i]};
}
for my $j (0 .. $num_jobs - 1) {
    die "split_scp.pl: piece " . ($j + 1) . " of $num_jobs would be empty\n" unless @{$pieces[$j]};
}

my @which = defined $job_id ? ($job_id) : (0 .. $num_jobs - 1);
for my $j (@which) {
    my $out;
    if (defined $job_id) {
        if (@outs) { open($out, '>', $outs[0]) or die "split_scp.pl: cannot write $outs[0]: $!\n"; }
        else { $out = \*STDOUT; }
    } else {
        open($out, '>', $outs[$j]) or die "split_scp.pl: cannot write $outs[$j]: $!\n";
    }
    print $out @{$pieces[$j]};
    close $out unless defined $job_id && !@outs;
}
