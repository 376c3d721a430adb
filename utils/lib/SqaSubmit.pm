package SqaSubmit;
# The parts shared by run.pl, queue.pl and slurm.pl: the command-line contract
#   <tool> [options] [JOB=1:N] <log> <command...>
# the per-task log format, and the failure report.
use strict;
use warnings;
use POSIX qw(strftime);
use Exporter 'import';
our @EXPORT_OK = qw(parse_command_line task_string task_log quote_command log_header
                    log_footer_lines report_failures log_succeeded log_has_ended num_cpus
                    num_gpus read_log_status);

# Options every submitter understands. Values are normalised to underscores.
my %COMMON = map { $_ => 1 } qw(mem gpu num_threads max_jobs_run time name config pick);

# Parse @ARGV. Returns a hash:
#   opts     => [[name, value], ...] in command-line order (names with underscores)
#   known    => {name => value} for the common options
#   raw      => [...] single-dash scheduler options passed through verbatim (e.g. -q all.q)
#   jobvar, start, end (undef when no JOB=... range), log, cmd (the quoted command string)
sub parse_command_line {
    my ($tool, @argv) = @_;
    my (@opts, %known, @raw);
    while (@argv) {
        my $a = $argv[0];
        last if $a =~ /^[A-Za-z_]\w*=\d+(:\d+)?$/;       # JOB=1:N
        if ($a =~ /^--([A-Za-z][\w-]*)=(.*)$/) {
            shift @argv; my ($n, $v) = ($1, $2); $n =~ tr/-/_/;
            push @opts, [$n, $v]; $known{$n} = $v if $COMMON{$n};
        } elsif ($a =~ /^--([A-Za-z][\w-]*)$/) {
            shift @argv; my $n = $1; $n =~ tr/-/_/;
            die "$tool: option --$1 needs a value\n" unless @argv;
            my $v = shift @argv;
            push @opts, [$n, $v]; $known{$n} = $v if $COMMON{$n};
        } elsif ($a =~ /^-[A-Za-z]/ && @argv >= 2 && $a ne '-') {
            # Raw scheduler options: -pe takes two values, the rest one.
            push @raw, shift @argv;
            push @raw, shift @argv;
            push @raw, shift @argv if $raw[-2] eq '-pe' && @argv;
        } else {
            last;
        }
    }
    my ($jobvar, $start, $end);
    if (@argv && $argv[0] =~ /^([A-Za-z_]\w*)=(\d+)(?::(\d+))?$/) {
        ($jobvar, $start, $end) = ($1, $2, defined $3 ? $3 : $2);
        shift @argv;
        die "$tool: invalid job range $jobvar=$start:$end (the first index must be >= 1 and <= the last)\n"
            if $start < 1 || $end < $start;
    }
    die usage($tool) if @argv < 2;
    my $log = shift @argv;
    if (defined $jobvar && $end > $start && $log !~ /\Q$jobvar\E/) {
        die "$tool: you are trying to run a parallel job ($jobvar=$start:$end) but the log file '$log'"
          . " does not contain '$jobvar', so every task would write to the same log\n";
    }
    if (exists $known{pick} && $known{pick} !~ /^(all|failed|incomplete)$/) {
        die "$tool: --pick must be all, failed or incomplete, not '$known{pick}'\n";
    }
    for my $n (qw(gpu num_threads max_jobs_run)) {
        die "$tool: --" . ($n =~ tr/_/-/r) . " expects a non-negative integer, not '$known{$n}'\n"
            if exists $known{$n} && $known{$n} !~ /^\d+$/;
    }
    return { opts => \@opts, known => \%known, raw => \@raw, jobvar => $jobvar,
             start => $start, end => $end, log => $log, cmd => quote_command(@argv) };
}

sub usage {
    my ($tool) = @_;
    return "Usage: $tool [options] [JOB=1:N] <log-file> <command...>\n"
         . "  e.g.: $tool JOB=1:4 exp/log/work.JOB.log my-program --part JOB\n"
         . "Options: --mem <size> --gpu <n> --num-threads <n> --max-jobs-run <n> --time <t>\n"
         . "         --name <job-name> --config <conf-file> --pick all|failed|incomplete\n";
}

# Re-quote the command words so that `bash -c` sees them as the caller wrote them.
# Words made only of safe characters (and shell operators such as | escaped by the caller
# as \|, which arrive here as a bare |) stay unquoted.
sub quote_command {
    my @words;
    for my $w (@_) {
        if ($w =~ /^[\w\/\.\-=:,+@%^]+$/ || $w =~ /^(\||\|\||&&|;|>|>>|<|2>|2>&1|&>)$/) {
            push @words, $w;
        } elsif ($w !~ /'/) {
            push @words, "'$w'";
        } else {
            (my $e = $w) =~ s/(["\\\$`])/\\$1/g;
            push @words, "\"$e\"";
        }
    }
    return join(' ', @words);
}

sub task_string {
    my ($s, $jobvar, $id) = @_;
    return $s unless defined $jobvar;
    (my $r = $s) =~ s/\Q$jobvar\E/$id/g;
    return $r;
}

sub task_log { return task_string(@_); }

sub log_header {
    my ($cmd, @extra) = @_;
    my $h = "# $cmd\n";
    $h .= "$_\n" for @extra;
    $h .= "# Started at " . strftime("%a %b %e %H:%M:%S %Z %Y", localtime) . "\n";
    return $h;
}

# Footer lines; exit 137 (SIGKILL, usually the kernel's out-of-memory killer or a scheduler
# memory limit) gets a line of its own so users don't have to guess.
sub log_footer_lines {
    my ($code, $seconds, $threads) = @_;
    my $f = "# Accounting: time=$seconds threads=$threads\n";
    $f .= "# Killed by SIGKILL (exit 137): out of memory, or a scheduler limit?\n" if $code == 137;
    $f .= "# Ended (code $code) at " . strftime("%a %b %e %H:%M:%S %Z %Y", localtime) . "\n";
    return $f;
}

# Returns the exit code recorded in a log's footer, or undef if the task has not ended.
sub read_log_status {
    my ($log) = @_;
    open(my $fh, '<', $log) or return undef;
    my $status;
    while (my $line = <$fh>) {
        $status = $1 if $line =~ /^# Ended \(code (\d+)\)/;
    }
    close $fh;
    return $status;
}

sub log_succeeded { my $s = read_log_status($_[0]); return defined $s && $s == 0; }
sub log_has_ended { return defined read_log_status($_[0]); }

# Print the "K / N failed" summary and the tail of the first failing log to STDERR.
sub report_failures {
    my ($tool, $failed, $total, $logpattern, $first_log) = @_;
    if ($total == 1) {
        print STDERR "$tool: job failed, log is in $first_log\n";
    } else {
        print STDERR "$tool: $failed / $total failed, log is in $logpattern\n";
    }
    if (defined $first_log && open(my $fh, '<', $first_log)) {
        my @lines = <$fh>;
        close $fh;
        my $n = @lines < 20 ? scalar @lines : 20;
        print STDERR "$tool: last $n lines of $first_log:\n";
        print STDERR "  $_" for @lines[-$n .. -1];
        print STDERR "\n" if @lines && $lines[-1] !~ /\n$/;
    }
}

sub num_cpus {
    if (open(my $fh, '<', '/proc/cpuinfo')) {
        my $n = grep { /^processor\s*:/ } <$fh>;
        close $fh;
        return $n if $n > 0;
    }
    my $n = `sysctl -n hw.ncpu 2>/dev/null`;
    return ($n && $n =~ /^(\d+)/) ? $1 : 1;
}

sub num_gpus {
    my $out = `nvidia-smi -L 2>/dev/null`;
    my $n = () = $out =~ /^GPU \d+/mg;
    return $n;
}

1;
