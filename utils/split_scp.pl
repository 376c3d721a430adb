#!/usr/bin/env perl
# Splits a Kaldi table (scp, text, utt2spk, ...) into contiguous pieces of nearly equal size.
#   split_scp.pl [--utt2spk=<utt2spk>] <in.scp> <out.1> ... <out.N>
#   split_scp.pl [--utt2spk=<utt2spk>] -j <N> <k> <in.scp> [<out>]   piece k (0-based) of N
# With --utt2spk, all lines of a speaker go to the same piece (the lines of each speaker
# must be contiguous in <in.scp>, as in a sorted table whose speaker ids are prefixes of the
# utterance ids) and the pieces are balanced by number of lines. Asking for more pieces
# than lines (or speakers) is an error: no piece may be empty.
use strict;
use warnings;

my $prog = 'split_scp.pl';

sub usage {
  print STDERR "Usage: $prog [--utt2spk=<utt2spk>] <in.scp> <out.1> ... <out.N>\n" .
    "       $prog [--utt2spk=<utt2spk>] -j <N> <k> <in.scp> [<out>]  (piece k of N, k from 0)\n" .
    "e.g.: $prog --utt2spk=data/train/utt2spk data/train/wav.scp exp/wav.1.scp exp/wav.2.scp\n";
  exit $_[0];
}

sub fail { print STDERR "$prog: $_[0]\n"; exit 1; }

my ($utt2spk_file, $num_jobs, $job);
while (@ARGV && $ARGV[0] =~ /^-/) {
  my $opt = shift @ARGV;
  if ($opt =~ /^--utt2spk=(.+)$/) { $utt2spk_file = $1; }
  elsif ($opt eq '--utt2spk') { $utt2spk_file = shift @ARGV // usage(1); }
  elsif ($opt eq '-j') {
    ($num_jobs, $job) = splice(@ARGV, 0, 2);
    usage(1) unless defined $job && $num_jobs =~ /^\d+$/ && $job =~ /^\d+$/;
    fail("-j $num_jobs $job: need N >= 1 and 0 <= k < N") unless $num_jobs >= 1 && $job < $num_jobs;
  } elsif ($opt eq '-h' || $opt eq '--help') { usage(0); }
  else { print STDERR "$prog: unknown option $opt\n"; usage(1); }
}

my ($in, @outs);
if (defined $num_jobs) {
  usage(1) unless @ARGV == 1 || @ARGV == 2;
  ($in, @outs) = @ARGV;
} else {
  usage(1) unless @ARGV >= 2;
  ($in, @outs) = @ARGV;
  $num_jobs = @outs;
}

open(my $fh, '<', $in) or fail("cannot read $in: $!");
my @lines = <$fh>;
close $fh;
for my $i (0 .. $#lines) {
  fail("$in:" . ($i + 1) . ": empty line") unless $lines[$i] =~ /\S/;
  $lines[$i] .= "\n" unless $lines[$i] =~ /\n$/;
}
my $n = @lines;

# Group lines: one group per line, or per speaker with --utt2spk.
my @group_sizes;
if (defined $utt2spk_file) {
  open(my $u, '<', $utt2spk_file) or fail("cannot read $utt2spk_file: $!");
  my %spk;
  while (my $line = <$u>) {
    my @f = split ' ', $line;
    fail("$utt2spk_file:$.: expected '<utt> <spk>'") unless @f == 2;
    $spk{$f[0]} = $f[1];
  }
  close $u;
  my (%done, $prev);
  for my $i (0 .. $#lines) {
    my ($key) = split ' ', $lines[$i];
    my $s = $spk{$key};
    fail("$in:" . ($i + 1) . ": utterance '$key' is not in $utt2spk_file") unless defined $s;
    if (defined $prev && $s eq $prev) {
      $group_sizes[-1]++;
      next;
    }
    fail("$in:" . ($i + 1) . ": the lines of speaker '$s' are not contiguous (sort the " .
      "file with LC_ALL=C and make speaker ids prefixes of utterance ids)") if $done{$s};
    $done{$s} = 1;
    $prev = $s;
    push @group_sizes, 1;
  }
} else {
  @group_sizes = (1) x $n;
}
my $groups = @group_sizes;
my $what = defined $utt2spk_file ? 'speakers' : 'lines';
fail("cannot split $in: it is empty") if $n == 0;
fail("cannot split $groups $what of $in into $num_jobs pieces: a piece would be empty")
  if $groups < $num_jobs;

# Piece k ends after group $end[k]; each boundary is put where the running line count is
# closest to k/N of the total, keeping at least one group per piece.
my @cum = (0);
push @cum, $cum[-1] + $_ for @group_sizes;
my @end;
my $prev_end = 0;
for my $k (1 .. $num_jobs - 1) {
  my $target = $n * $k / $num_jobs;
  my ($best, $best_dist);
  for my $b ($prev_end + 1 .. $groups - ($num_jobs - $k)) {
    my $dist = abs($cum[$b] - $target);
    ($best, $best_dist) = ($b, $dist) if !defined $best_dist || $dist < $best_dist;
  }
  push @end, $best;
  $prev_end = $best;
}
push @end, $groups;

my $start_group = 0;
for my $k (0 .. $num_jobs - 1) {
  my ($from, $to) = ($cum[$start_group], $cum[$end[$k]]);
  $start_group = $end[$k];
  next if @outs == 1 && defined $job && $k != $job;
  next if !@outs && $k != $job;
  my $out_fh;
  if (!@outs) {
    $out_fh = \*STDOUT;
  } else {
    my $out = @outs == 1 && defined $job ? $outs[0] : $outs[$k];
    open($out_fh, '>', $out) or fail("cannot write $out: $!");
  }
  print $out_fh @lines[$from .. $to - 1];
  close $out_fh if @outs;
}
