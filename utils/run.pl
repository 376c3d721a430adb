#!/usr/bin/env perl
# run.pl: runs a command (or an array of numbered tasks) on this machine.
#   run.pl [options] [JOB=1:N] <log-file> <command...>      (run.pl --help for details)
# At most --max-jobs-run tasks run at once (default: number of CPUs divided by
# --num-threads, or number of GPUs divided by --gpu when --gpu > 0). Scheduler-only
# options (--mem, --time, --name, --config, -q x, -pe smp 4, any --foo value) are
# accepted and ignored so the same $cmd string works with queue.pl and slurm.pl.
# --pick failed|incomplete re-runs only the tasks whose logs do not show success.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use File::Basename qw(dirname);
use POSIX qw(strftime setpgid WIFEXITED WEXITSTATUS WIFSIGNALED WTERMSIG);
use Jobs::Common qw(
  parse_command_line task_ids task_log task_command ensure_dir log_end_code
  report_and_exit footer_lines
);

my $tool = 'run.pl';
my $extra_usage = <<'EOF';
run.pl only:
  --pick all|failed|incomplete   all (default): run every task; failed: only tasks
                          whose log ends with a non-zero '# Ended (code N)';
                          incomplete: every task whose log does not end with
                          '# Ended (code 0)' (failed, interrupted or never run)
  Other options (--mem, --time, --name, --config, -q ..., --foo ...) are ignored.
e.g.: run.pl JOB=1:4 exp/log/feats.JOB.log python -m speechbert.bin.compute_feats data/split4/JOB
EOF

# Errors end with exit status 1 (a plain die would exit 255).
$SIG{__DIE__} = sub { return if $^S; print STDERR $_[0]; exit 1; };

my $job = parse_command_line($tool, \@ARGV, $extra_usage);
my $opts = $job->{opts};
my $threads = $opts->{num_threads} || 1;
my $gpus_per_job = $opts->{gpu} // 0;
my $pick = $opts->{pick} // 'all';
die "$tool: --pick must be all, failed or incomplete, got '$pick'\n"
  unless $pick =~ /^(all|failed|incomplete)$/;

my @tasks = select_tasks($job, $pick);
if (!@tasks) {
  print STDERR "$tool: --pick $pick: nothing to re-run\n";
  exit 0;
}
if ($pick ne 'all') {
  my @all = task_ids($job);
  my $total = scalar(@all);
  print STDERR "$tool: --pick $pick: re-running " . scalar(@tasks) . " of $total tasks (" .
    join(',', @tasks) . ")\n";
}

my $max_parallel = $opts->{max_jobs_run} || default_parallelism($threads, $gpus_per_job);
my %running;    # pid => task id
my %results;    # task id => exit code

for my $sig (qw(INT TERM HUP)) {
  $SIG{$sig} = sub {
    kill 'TERM', map { -$_ } keys %running;
    print STDERR "$tool: caught SIG$sig, stopped " . scalar(keys %running) . " running task(s)\n";
    exit($sig eq 'INT' ? 130 : 143);
  };
}

my @queue = @tasks;
while (@queue || %running) {
  while (@queue && keys(%running) < $max_parallel) {
    my $id = shift @queue;
    my $pid = fork();
    die "$tool: fork failed: $!\n" unless defined $pid;
    if ($pid == 0) {
      $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP);
      setpgid(0, 0);    # own process group, so a signal stops the whole task
      exit(run_task($job, $id, $threads));
    }
    $running{$pid} = $id;
  }
  my $pid = waitpid(-1, 0);
  last if $pid < 0;
  next unless exists $running{$pid};
  my $id = delete $running{$pid};
  $results{$id} = status_code($?);
}

report_and_exit($tool, $job, \%results);
exit 0;

sub select_tasks {
  my ($job, $pick) = @_;
  my @ids = task_ids($job);
  return @ids if $pick eq 'all';
  my @selected;
  for my $id (@ids) {
    my $code = log_end_code(task_log($job, $id));
    if ($pick eq 'failed') {
      push @selected, $id if defined $code && $code != 0;
    } else {
      push @selected, $id if !defined $code || $code != 0;
    }
  }
  return @selected;
}

sub status_code {
  my ($status) = @_;
  return 127 if $status == -1;
  return 128 + WTERMSIG($status) if WIFSIGNALED($status);
  return WEXITSTATUS($status);
}

# Runs one task in this (child) process; returns its exit code.
sub run_task {
  my ($job, $id, $threads) = @_;
  my $log = task_log($job, $id);
  my $cmd = task_command($job, $id);
  ensure_dir($tool, dirname($log));
  open(my $fh, '>', $log) or die "$tool: cannot write $log: $!\n";
  (my $shown = $cmd) =~ s/\n/\n# /g;
  print $fh "# $shown\n# Started at " . strftime('%a %b %e %H:%M:%S %Z %Y', localtime) . "\n";
  close $fh;

  my $t0 = time();
  open(STDIN, '<', '/dev/null') or die "$tool: cannot open /dev/null: $!\n";
  open(STDOUT, '>>', $log) or die "$tool: cannot append to $log: $!\n";
  open(STDERR, '>&', \*STDOUT) or die "$tool: cannot redirect stderr: $!\n";
  system('bash', '-o', 'pipefail', '-c', $cmd);
  my $code = status_code($?);
  my $elapsed = time() - $t0;

  open($fh, '>>', $log) or die "$tool: cannot append to $log: $!\n";
  print $fh "$_\n" for footer_lines($elapsed, $threads, $code);
  close $fh;
  return $code > 255 ? 255 : $code;
}

sub default_parallelism {
  my ($threads, $gpus_per_job) = @_;
  my $n;
  if ($gpus_per_job > 0) {
    $n = int(num_gpus() / $gpus_per_job);
  } else {
    $n = int(num_cpus() / $threads);
  }
  return $n < 1 ? 1 : $n;
}

sub num_cpus {
  # nproc counts OMP_NUM_THREADS, which path.sh sets to 1 for every job: without it, one task
  # at a time would run on any machine.
  my $n = `env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null`;
  return $1 if defined $n && $n =~ /^(\d+)/ && $1 > 0;
  if (open(my $fh, '<', '/proc/cpuinfo')) {
    my $count = grep { /^processor\s*:/ } <$fh>;
    close $fh;
    return $count if $count > 0;
  }
  $n = `sysctl -n hw.ncpu 2>/dev/null`;
  return $1 if defined $n && $n =~ /^(\d+)/ && $1 > 0;
  return 1;
}

sub num_gpus {
  my @lines = grep { /^GPU \d+/ } `nvidia-smi -L 2>/dev/null`;
  return scalar(@lines);
}
